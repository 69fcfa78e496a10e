// The order book of the charted symbol: ten levels a side, best first, each
// with its size and a bar scaled to the deepest level shown, and the spread.
// Read from the engine (GET /api/v1/book) four times a second while shown.
import { formatPrice, formatVolume } from './format';
import type { BookLevel } from './generated/BookLevel';
import type { OrderBook } from './generated/OrderBook';
import { Poller } from './poller';
import { RequestError, type Transport } from './transport';

export class DepthPanel {
  private readonly poller = new Poller(250, () => this.refresh());

  constructor(
    private readonly bids: HTMLTableSectionElement,
    private readonly asks: HTMLTableSectionElement,
    private readonly summary: HTMLElement,
    private readonly transport: Transport,
    private readonly symbol: () => string | null,
  ) {}

  /** Polls while the panel is shown. */
  setVisible(visible: boolean): void {
    this.poller.setActive(visible);
  }

  async refresh(): Promise<void> {
    const symbol = this.symbol();
    if (!symbol) return;
    try {
      this.render((await this.transport.request<OrderBook>('book', { symbol, depth: 10 })).data);
    } catch (error) {
      this.bids.replaceChildren();
      this.asks.replaceChildren();
      this.summary.textContent = error instanceof RequestError ? error.message : `Order book unavailable: ${String(error)}`;
    }
  }

  private render(book: OrderBook): void {
    const deepest = Math.max(1, ...book.bids.map((l) => l.size), ...book.asks.map((l) => l.size));
    const rows = (levels: BookLevel[], side: 'bid' | 'ask') =>
      levels.map((level) => {
        const tr = document.createElement('tr');
        tr.dataset.side = side;
        tr.innerHTML = '<td class="num"></td><td class="num"></td><td class="depth-cell"><span class="depth-bar"></span></td>';
        tr.cells[0]!.textContent = formatPrice(level.price);
        tr.cells[1]!.textContent = formatVolume(level.size);
        (tr.querySelector('.depth-bar') as HTMLElement).style.width = `${((level.size / deepest) * 100).toFixed(1)}%`;
        return tr;
      });
    this.bids.replaceChildren(...rows(book.bids, 'bid'));
    this.asks.replaceChildren(...rows(book.asks, 'ask'));
    const [bid, ask] = [book.bids[0], book.asks[0]];
    this.summary.textContent = bid && ask
      ? `${book.symbol}: spread ${formatPrice(ask.price - bid.price, bid.price)} · seq ${book.seq}`
      : `${book.symbol}: one side is empty · seq ${book.seq}`;
  }
}
