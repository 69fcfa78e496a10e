// The live tick table: the newest ticks first (time, symbol, price, size,
// bid/ask, partition, offset), virtualised so only the rows in view exist
// in the DOM however many are kept; pause freezes the view while ticks keep
// arriving, a symbol filter narrows it.
import { setText } from './dom';
import { formatPrice } from './format';
import type { Tick } from './generated/Tick';

/** Ticks kept for the table. */
export const KEPT_TICKS = 10_000;
/** Row height in CSS pixels (fixed: the table is virtualised). */
const ROW = 24;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 6;
/** Least time between two redraws of a streaming table: faster is unreadable and costs frames. */
const REDRAW_MS = 100;

/** The newest `capacity` ticks pushed, each with its sequence number (0 = first pushed). */
export class TickBuffer {
  private items: (Tick | undefined)[];
  /** Ticks pushed so far. */
  total = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<Tick | undefined>(capacity);
  }

  push(tick: Tick): void {
    this.items[this.total % this.capacity] = tick;
    this.total += 1;
  }

  /** The first sequence number still kept. */
  first(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /** Tick `n`, if still kept. */
  get(n: number): Tick | undefined {
    return n >= this.first() && n < this.total ? this.items[n % this.capacity] : undefined;
  }

  /** A copy that later pushes leave as it is. */
  snapshot(): TickBuffer {
    const copy = new TickBuffer(this.capacity);
    copy.items = this.items.slice();
    copy.total = this.total;
    return copy;
  }

  clear(): void {
    this.items = new Array<Tick | undefined>(this.capacity);
    this.total = 0;
  }
}

export class TickTable {
  private readonly all = new TickBuffer(KEPT_TICKS);
  private readonly filtered = new TickBuffer(KEPT_TICKS);
  private filter = '';
  /** While paused: the view as it was at the pause, so arriving ticks neither show nor push its rows out. */
  private frozen: TickBuffer | null = null;
  private readonly top: HTMLTableRowElement;
  private readonly bottom: HTMLTableRowElement;
  private readonly rows: HTMLTableRowElement[] = [];
  private dirty = true;
  private drawnAt = 0;
  /** Kept from scroll events: reading the element's would force a layout every frame. */
  private scrollTop = 0;
  private visible = false;
  /** False while the table is scrolled out of the viewport: nothing to draw then. */
  private onScreen = true;
  /** The scroller's height, measured when the tab is shown (and on window resizes). */
  private height = 320;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly body: HTMLTableSectionElement,
    private readonly pauseButton: HTMLButtonElement,
    filterInput: HTMLInputElement,
    private readonly count: HTMLElement,
  ) {
    this.top = document.createElement('tr');
    this.bottom = document.createElement('tr');
    this.top.className = this.bottom.className = 'spacer';
    this.top.setAttribute('aria-hidden', 'true');
    this.bottom.setAttribute('aria-hidden', 'true');
    body.append(this.top, this.bottom);
    pauseButton.addEventListener('click', () => this.togglePause());
    window.addEventListener('resize', () => {
      if (this.visible) this.height = this.scroller.clientHeight || this.height;
    });
    new IntersectionObserver(([entry]) => {
      this.onScreen = entry?.isIntersecting ?? true;
      if (this.onScreen) this.render(true);
    }).observe(scroller);
    filterInput.addEventListener('input', () => this.setFilter(filterInput.value));
    scroller.addEventListener(
      'scroll',
      () => {
        this.scrollTop = scroller.scrollTop;
        this.render(true);
      },
      { passive: true },
    );
  }

  /** Shown or hidden with its tab; measured when shown. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) {
      this.height = this.scroller.clientHeight || this.height;
      this.scrollTop = this.scroller.scrollTop;
      this.render(true);
    }
  }

  /** The view's buffer. */
  private view(): TickBuffer {
    return this.filter ? this.filtered : this.all;
  }

  push(ticks: Tick[]): void {
    if (ticks.length === 0) return;
    let added = 0;
    for (const tick of ticks) {
      this.all.push(tick);
      if (!this.filter) added += 1;
      else if (tick.symbol === this.filter) {
        this.filtered.push(tick);
        added += 1;
      }
    }
    // Scrolled into the past: keep the same rows in view as new ones arrive on top.
    if (this.frozen === null && added > 0 && this.scrollTop > 0 && this.visible) {
      const view = this.view();
      const bottom = Math.max(0, (view.total - view.first()) * ROW - this.height);
      this.scrollTop = Math.min(this.scrollTop + added * ROW, bottom);
      this.scroller.scrollTop = this.scrollTop;
    }
    this.dirty = this.dirty || added > 0;
  }

  togglePause(): void {
    this.frozen = this.frozen === null ? this.view().snapshot() : null;
    this.pauseButton.setAttribute('aria-pressed', String(this.frozen !== null));
    this.pauseButton.textContent = this.frozen === null ? 'Pause' : 'Resume';
    this.render(true);
  }

  setFilter(text: string): void {
    const symbol = text.trim().toUpperCase();
    if (symbol === this.filter) return;
    this.filter = symbol;
    this.filtered.clear();
    if (symbol) {
      for (let n = this.all.first(); n < this.all.total; n += 1) {
        const tick = this.all.get(n)!;
        if (tick.symbol === symbol) this.filtered.push(tick);
      }
    }
    if (this.frozen !== null) this.frozen = this.view().snapshot();
    this.scroller.scrollTop = this.scrollTop = 0;
    this.render(true);
  }

  /** Draws the rows in view when something changed, at most every `REDRAW_MS` unless forced (call once per frame). */
  render(force = false): void {
    if (!force && (!this.dirty || performance.now() - this.drawnAt < REDRAW_MS)) return;
    this.drawnAt = performance.now();
    if (!this.visible || !this.onScreen) return; // drawn when shown
    this.dirty = false;
    const view = this.frozen ?? this.view();
    const end = view.total;
    const rows = end - view.first();
    const first = Math.min(rows, Math.max(0, Math.floor(this.scrollTop / ROW) - OVERSCAN));
    const visible = Math.min(rows - first, Math.ceil(this.height / ROW) + 2 * OVERSCAN);
    while (this.rows.length < visible) this.rows.push(this.makeRow());
    let anchor: HTMLTableRowElement = this.top;
    for (let i = 0; i < visible; i += 1) {
      const row = this.rows[i]!;
      fill(row, view.get(end - 1 - (first + i)));
      if (anchor.nextSibling !== row) this.body.insertBefore(row, anchor.nextSibling);
      anchor = row;
    }
    for (const row of this.rows.slice(visible)) row.remove();
    this.top.style.height = `${first * ROW}px`;
    this.bottom.style.height = `${(rows - first - visible) * ROW}px`;
    this.body.dataset.rows = String(rows);
    const waiting = this.view().total - end;
    setText(
      this.count,
      `${rows.toLocaleString('en-US')} ticks${this.filter ? ` of ${this.filter}` : ''}` +
        (this.frozen === null ? '' : ` · paused, ${waiting.toLocaleString('en-US')} new`),
    );
  }

  private makeRow(): HTMLTableRowElement {
    const row = document.createElement('tr');
    for (let i = 0; i < 8; i += 1) {
      const cell = document.createElement('td');
      if (i >= 2) cell.className = 'num';
      row.append(cell);
    }
    return row;
  }
}

function fill(row: HTMLTableRowElement, tick: Tick | undefined): void {
  const cells = row.cells;
  const values = tick
    ? [
        tick.timestamp.slice(11, 23),
        tick.symbol,
        formatPrice(tick.price),
        tick.volume.toLocaleString('en-US'),
        tick.bid === undefined ? '' : formatPrice(tick.bid),
        tick.ask === undefined ? '' : formatPrice(tick.ask),
        tick.partition === undefined ? '' : String(tick.partition),
        tick.offset === undefined ? '' : String(tick.offset),
      ]
    : ['', '', '', '', '', '', '', ''];
  for (let i = 0; i < 8; i += 1) setText(cells[i]!, values[i]!);
}
