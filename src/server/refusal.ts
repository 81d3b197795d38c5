/** A refused management request: its status, message, extra fields and headers. @internal */
export class Refusal {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {}
}
