// Poller: refreshes a panel from the engine now and then every few seconds
// while the panel is shown, one request at a time (a slow answer delays the
// next instead of piling requests up).

export class Poller {
  private active = false;
  private inFlight = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly everyMs: number,
    private readonly poll: () => Promise<void>,
  ) {}

  /** Starts polling (at once) or stops it. */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    if (!active && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    } else if (active && !this.inFlight) {
      void this.tick();
    }
  }

  private async tick(): Promise<void> {
    this.timer = null;
    this.inFlight = true;
    try {
      await this.poll();
    } finally {
      this.inFlight = false;
    }
    if (this.active) this.timer = setTimeout(() => void this.tick(), this.everyMs);
  }
}
