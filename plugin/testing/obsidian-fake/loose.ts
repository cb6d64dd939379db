/* eslint-disable @typescript-eslint/no-explicit-any -- the point of this file: object types loosened. */

type LooseType<T> = T extends string | number | boolean | null | undefined | void
  ? T
  : T extends Promise<infer U>
    ? Promise<LooseType<U>>
    : any;

/**
 * A real Obsidian class with every object type loosened to `any`. A fake declared
 * `implements Partial<Loose<obsidian.X>>` is checked against the real API for what can be checked
 * — primitive property types, primitive parameters and results, promises — but not for class
 * identities: a fake `TFile` can never be the real `TFile`, whose members name the real `Vault`.
 */
export type Loose<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: { [I in keyof A]: LooseType<A[I]> }) => LooseType<R>
    : LooseType<T[K]>;
};
