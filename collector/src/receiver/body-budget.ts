/*
 * Bounds what concurrent exports may hold before their events reach the write queue: how many
 * bodies are read and decoded at once, and how many decompressed bytes they hold together. Forty
 * concurrent gzip bombs each stop at the body limit, but forty times that limit is still gigabytes;
 * with a shared budget the forty-first byte over it is refused (429 + Retry-After) instead.
 */

/** One export's share of the budget; released when its request is done, whatever the outcome. */
export interface BodyReservation {
  /** Takes `bytes` more from the shared budget; false (and nothing taken) when it would overflow. */
  reserve(bytes: number): boolean;
  release(): void;
}

export class BodyBudget {
  private activeExports = 0;
  private heldBytes = 0;

  constructor(
    private readonly maxConcurrentExports: number,
    private readonly maxHeldBytes: number,
  ) {}

  get exportsInProgress(): number {
    return this.activeExports;
  }

  get bytesHeld(): number {
    return this.heldBytes;
  }

  /** A reservation for one more export, or undefined when as many as allowed are in progress. */
  tryAcquire(): BodyReservation | undefined {
    if (this.activeExports >= this.maxConcurrentExports) return undefined;
    this.activeExports++;
    let mine = 0;
    let released = false;
    return {
      reserve: (bytes) => {
        if (released) return false;
        if (this.heldBytes + bytes > this.maxHeldBytes) return false;
        this.heldBytes += bytes;
        mine += bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.heldBytes -= mine;
        this.activeExports--;
      },
    };
  }
}
