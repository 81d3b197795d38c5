/** What an evaluation in a request scope assigned: the variant, and to whom (a user hash). */
export interface Served {
  readonly variant: string;
  readonly user: number | undefined;
}

/** The variants served in request scopes. @internal */
export interface ServedVariants {
  /** Notes that the current request scope, if any, was served `variant` of `flagKey` for `user`. */
  note(flagKey: string, variant: string, user: number | undefined): void;
  /** What the current request scope was served, by flag; undefined outside a scope. */
  current(): ReadonlyMap<string, Served> | undefined;
}

/**
 * The experiment variants each request was served, kept against the request's scope object (what
 * `read` returns while the request is handled, e.g. `currentFlagScope()` of `rampflag/otel`), held
 * weakly so they go with the request. Without `read` nothing is kept. A `read` that throws counts
 * as no scope.
 * @internal
 */
export function servedVariants(read: (() => object | undefined) | undefined): ServedVariants {
  const served = new WeakMap<object, Map<string, Served>>();
  const scope = (): object | undefined => {
    try {
      const current = read?.();
      return typeof current === 'object' && current !== null ? current : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    note(flagKey, variant, user) {
      const current = scope();
      if (current === undefined) return;
      let byFlag = served.get(current);
      if (byFlag === undefined) served.set(current, (byFlag = new Map()));
      byFlag.set(flagKey, { variant, user });
    },
    current() {
      const current = scope();
      return current === undefined ? undefined : served.get(current);
    },
  };
}
