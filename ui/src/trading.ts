// Paper trading: a ticket for the charted symbol (keyboard-first: `b` or
// `s` opens it on that side with the quantity selected, Enter places), the
// orders blotter (working ones cancellable), and the `paper` account's cash,
// profit and positions. Orders and fills arrive on the stream (topic
// `orders`); the account is read again after each, and once a second while
// shown (its holdings move with the market).
import { formatPrice, formatVolume } from './format';
import type { Account } from './generated/Account';
import type { Fill } from './generated/Fill';
import type { NewOrder } from './generated/NewOrder';
import type { Order } from './generated/Order';
import type { OrderKind } from './generated/OrderKind';
import type { PlacedOrder } from './generated/PlacedOrder';
import type { ServerMsg } from './generated/ServerMsg';
import type { Side } from './generated/Side';
import type { TimeInForce } from './generated/TimeInForce';
import { formatPnl } from './portfolio';
import { Poller } from './poller';
import { RequestError, type Transport } from './transport';

const ACCOUNT = 'paper';
/** Orders shown in the blotter, newest first. */
const SHOWN_ORDERS = 200;
const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Whether an order still works. */
export function isWorking(order: Order): boolean {
  return order.status === 'pending' || order.status === 'open' || order.status === 'partially_filled';
}

/** The order a ticket's fields describe, with the price fields its type needs only. */
export function orderFrom(fields: FormData, symbol: string): NewOrder {
  const kind = String(fields.get('kind')) as OrderKind;
  const price = (name: string) => {
    const text = String(fields.get(name) ?? '').trim();
    return text === '' ? undefined : Number(text);
  };
  return {
    account: ACCOUNT,
    symbol,
    side: String(fields.get('side')) as Side,
    kind,
    quantity: Number(fields.get('quantity')),
    limit_price: kind === 'limit' || kind === 'stop_limit' ? price('limit_price') : undefined,
    stop_price: kind === 'stop' || kind === 'stop_limit' ? price('stop_price') : undefined,
    time_in_force: String(fields.get('time_in_force')) as TimeInForce,
  };
}

export class TradePanel {
  private readonly orders = new Map<number, Order>();
  private readonly poller = new Poller(1000, () => this.loadAccount());
  private readonly ticket: HTMLFormElement;
  private readonly result: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly positions: HTMLTableSectionElement;
  private readonly blotter: HTMLTableSectionElement;

  constructor(
    root: HTMLElement,
    private readonly transport: Transport,
    private readonly symbol: () => string | null,
    private readonly onFills: (fills: Fill[]) => void,
  ) {
    const $ = <T extends Element>(selector: string) => root.querySelector<T>(selector)!;
    this.ticket = $('#trade-ticket');
    this.result = $('#ticket-result');
    this.summary = $('#account-summary');
    this.positions = $('#trade-positions tbody');
    this.blotter = $('#trade-orders tbody');
    this.ticket.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.place();
    });
    (this.ticket.elements.namedItem('kind') as HTMLSelectElement).addEventListener('change', () => this.showPriceFields());
    this.blotter.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-cancel]');
      if (button) void this.cancel(Number(button.dataset.cancel));
    });
    this.showPriceFields();
  }

  /** Reads orders, fills and the account while the panel is shown. */
  setVisible(visible: boolean): void {
    this.poller.setActive(visible);
    if (visible) this.showSymbol();
  }

  /** Loads the blotter and the fills to mark on the chart. */
  async refresh(): Promise<void> {
    try {
      const orders = (await this.transport.request<Order[]>('orders', { account: ACCOUNT, limit: SHOWN_ORDERS })).data;
      for (const order of orders) this.orders.set(order.id, order);
      this.renderOrders();
      const fills = (await this.transport.request<Fill[]>('fills', { account: ACCOUNT, limit: 10000 })).data;
      this.onFills(fills);
    } catch (error) {
      this.say('error', error);
    }
    await this.loadAccount();
  }

  /** Opens the ticket on `side` for the charted symbol, the quantity selected. */
  open(side: Side): void {
    this.showSymbol();
    (this.ticket.elements.namedItem('side') as HTMLSelectElement).value = side;
    const quantity = this.ticket.elements.namedItem('quantity') as HTMLInputElement;
    quantity.focus();
    quantity.select();
  }

  /** A frame of the `orders` stream: the blotter, the chart's marks and the account follow it. */
  onMessage(msg: ServerMsg): void {
    if (msg.type === 'order') {
      this.orders.set(msg.data.id, msg.data);
      this.renderOrders();
    } else if (msg.type === 'fill' && msg.data.account === ACCOUNT) {
      this.onFills([msg.data]);
    }
    // Cash set aside, held and spent all follow orders and fills.
    void this.loadAccount();
  }

  private async place(): Promise<void> {
    const symbol = this.symbol();
    if (!symbol) return this.say('error', 'Chart a symbol first.');
    const order = orderFrom(new FormData(this.ticket), symbol);
    try {
      const placed = await this.transport.post<PlacedOrder>('orders', order);
      this.orders.set(placed.order.id, placed.order);
      this.renderOrders();
      const filled = placed.fills.reduce((n, f) => n + f.quantity, 0);
      const status = placed.order.status.replace('_', ' ');
      this.say('ok', `#${placed.order.id} ${order.side} ${formatVolume(order.quantity)} ${symbol}: ${status}${filled > 0 ? `, ${formatVolume(filled)} filled at ${formatPrice(placed.order.average_price ?? 0)}` : ''}${placed.order.reason ? ` (${placed.order.reason})` : ''}`);
      void this.loadAccount();
    } catch (error) {
      this.say('error', error);
    }
  }

  private async cancel(id: number): Promise<void> {
    try {
      const order = await this.transport.send<Order>('DELETE', `orders/${id}`);
      this.orders.set(order.id, order);
      this.renderOrders();
      this.say('ok', `#${id} cancelled.`);
    } catch (error) {
      this.say('error', error);
    }
  }

  private async loadAccount(): Promise<void> {
    try {
      this.renderAccount((await this.transport.request<Account>(`accounts/${ACCOUNT}`)).data);
    } catch (error) {
      this.summary.textContent = error instanceof RequestError ? error.message : String(error);
    }
  }

  private renderAccount(account: Account): void {
    this.summary.textContent = `Paper account · cash ${money.format(account.cash)} · buying power ${money.format(account.buying_power)} · equity ${money.format(account.equity)} · realised ${formatPnl(account.realized_pnl)} · unrealised ${formatPnl(account.unrealized_pnl)} · fees ${money.format(account.fees)}`;
    this.positions.replaceChildren(
      ...account.positions.map((p) => {
        const tr = document.createElement('tr');
        for (const [text, numeric] of [
          [p.symbol, false], [formatVolume(p.quantity), true], [formatPrice(p.average_price), true], [formatPrice(p.last_price), true],
          [money.format(p.market_value), true], [formatPnl(p.unrealized_pnl), true], [formatPnl(p.realized_pnl), true],
        ] as const) {
          const td = tr.insertCell();
          td.textContent = text;
          if (numeric) td.className = 'num';
        }
        return tr;
      }),
    );
  }

  private renderOrders(): void {
    const newest = [...this.orders.values()].sort((a, b) => b.id - a.id).slice(0, SHOWN_ORDERS);
    this.blotter.replaceChildren(
      ...newest.map((o) => {
        const tr = document.createElement('tr');
        tr.dataset.side = o.side;
        tr.dataset.status = o.status;
        const price = [o.limit_price, o.stop_price].filter((p) => p !== undefined).map((p) => formatPrice(p!)).join(' / ');
        for (const [text, numeric] of [
          [`${o.id}`, false], [o.symbol, false], [o.side, false], [o.kind.replace('_', ' '), false], [formatVolume(o.quantity), true],
          [formatVolume(o.filled), true], [price || 'market', true], [o.average_price === undefined ? '' : formatPrice(o.average_price), true],
          [o.time_in_force.toUpperCase(), false], [o.status.replace('_', ' '), false],
        ] as const) {
          const td = tr.insertCell();
          td.textContent = text;
          if (numeric) td.className = 'num';
        }
        const actions = tr.insertCell();
        if (isWorking(o)) {
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'small-button';
          button.dataset.cancel = String(o.id);
          button.textContent = 'Cancel';
          button.setAttribute('aria-label', `Cancel order ${o.id}`);
          actions.append(button);
        }
        if (o.reason) tr.title = o.reason;
        return tr;
      }),
    );
  }

  private showSymbol(): void {
    this.ticket.querySelector('#ticket-symbol')!.textContent = this.symbol() ?? '';
  }

  /** Shows the limit and stop fields the order type needs. */
  private showPriceFields(): void {
    const kind = (this.ticket.elements.namedItem('kind') as HTMLSelectElement).value;
    const field = (name: string) => this.ticket.querySelector<HTMLElement>(`[data-field="${name}"]`)!;
    field('limit').hidden = kind !== 'limit' && kind !== 'stop_limit';
    field('stop').hidden = kind !== 'stop' && kind !== 'stop_limit';
  }

  private say(kind: 'ok' | 'error', message: unknown): void {
    this.result.dataset.kind = kind;
    this.result.textContent = message instanceof RequestError ? message.message : String(message);
  }
}
