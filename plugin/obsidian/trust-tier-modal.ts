import { Modal, Setting, type App } from 'obsidian';
import {
  TRUST_TIER_LABELS,
  reputationLines,
  reputationText,
  type TrustTier,
  type TrustTierRequest,
  type WorkerReputation,
} from '../../protocol/index.ts';
import { TRUST_TIER_CHOICES, trustTierChange } from '../state/worker-trust.ts';

/** The worker whose tier is being changed, as the Workers view knows it. */
export interface TrustTierSubject {
  workerId: string;
  name: string;
  trustTier: TrustTier;
}

/**
 * "Change trust": the admin picks a worker's new trust tier and says why (the audit log keeps the
 * reason with the change). The worker's reputation, with the rates behind it, is shown to decide
 * by; a refusal from the pool is shown in words and the dialog stays open.
 */
export class TrustTierModal extends Modal {
  private tier: string;
  private reason = '';
  private problemEl: HTMLElement | null = null;
  private busy = false;

  constructor(
    app: App,
    private readonly worker: TrustTierSubject,
    private readonly loadReputation: () => Promise<WorkerReputation>,
    private readonly submit: (request: TrustTierRequest) => Promise<void>,
  ) {
    super(app);
    this.tier = worker.trustTier;
  }

  override onOpen(): void {
    const { contentEl } = this;
    this.setTitle(`Trust tier of ${this.worker.name}`);
    contentEl.addClass('owp-modal');
    contentEl.createEl('p', {
      text: `${this.worker.name} is ${TRUST_TIER_LABELS[this.worker.trustTier]} now. The tier decides which task risk tiers the pool gives them.`,
    });
    const reputationEl = contentEl.createDiv({ cls: 'owp-reputation-detail' });
    reputationEl.setText('Reading the reputation…');
    void this.showReputation(reputationEl);

    new Setting(contentEl).setName('Tier').addDropdown((dropdown) => {
      for (const choice of TRUST_TIER_CHOICES) dropdown.addOption(choice.value, choice.label);
      dropdown.setValue(this.tier).onChange((value) => {
        this.tier = value;
      });
    });
    new Setting(contentEl)
      .setName('Reason')
      .setDesc('Required: the audit log keeps it with the change.')
      .addTextArea((text) => {
        text.setPlaceholder('Example: merged ten tasks without a revert').onChange((value) => {
          this.reason = value;
        });
        window.setTimeout(() => text.inputEl.focus(), 0);
      });
    this.problemEl = contentEl.createDiv({ cls: 'owp-inline-error' });
    new Setting(contentEl).addButton((button) =>
      button
        .setButtonText('Change tier')
        .setCta()
        .onClick(() => void this.change()),
    );
  }

  override onClose(): void {
    this.contentEl.empty();
  }

  private async showReputation(el: HTMLElement): Promise<void> {
    try {
      const reputation = await this.loadReputation();
      el.empty();
      el.createDiv({
        cls: 'owp-reputation-score',
        text: `Reputation ${reputationText(reputation.reputation)}`,
      });
      const list = el.createEl('ul');
      for (const line of reputationLines(reputation)) {
        list.createEl('li', { text: `${line.label} ${line.rate}: ${line.from}` });
      }
    } catch (error) {
      el.setText(`Could not read the reputation: ${messageOf(error)}`);
    }
  }

  private async change(): Promise<void> {
    if (this.busy) return;
    const checked = trustTierChange(this.worker, this.tier, this.reason);
    if (!checked.ok) {
      this.problemEl?.setText(checked.problem);
      return;
    }
    this.busy = true;
    this.problemEl?.setText('');
    try {
      await this.submit(checked.request);
      this.close();
    } catch (error) {
      this.problemEl?.setText(messageOf(error));
    } finally {
      this.busy = false;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
