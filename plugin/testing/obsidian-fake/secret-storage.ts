/**
 * Obsidian's `SecretStorage` (`app.secretStorage`, since Obsidian 1.11.4; not in the 1.8.7 type
 * definitions this project builds against, so plugin code must look for it at run time). A
 * key-value store shared by plugins, kept by the OS keychain — never in the vault. Here: memory.
 */
export class SecretStorage {
  private readonly secrets = new Map<string, string>();

  setSecret(id: string, secret: string): void {
    this.secrets.set(id, secret);
  }

  getSecret(id: string): string | null {
    return this.secrets.get(id) ?? null;
  }

  listSecrets(): string[] {
    return [...this.secrets.keys()];
  }
}
