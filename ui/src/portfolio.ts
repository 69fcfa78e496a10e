// Portfolios: named sets of positions (quantity, cost) kept by the engine
// (/api/v1/portfolios), with live P&L: the engine values the shown
// portfolio at its latest quotes once a second (/portfolios/{id}/value).
import { formatPercent, formatPrice } from './format';
import type { Portfolio } from './generated/Portfolio';
import type { Valuation } from './generated/Valuation';
import { Poller } from './poller';
import { RequestError, type Transport } from './transport';

const KEY = 'tickstream.portfolio';
const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A signed amount, e.g. "+1,250.00" (the sign is text, not only colour). */
export function formatPnl(value: number): string {
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${money.format(Math.abs(value))}`;
}

export class PortfolioPanel {
  private portfolios: Portfolio[] = [];
  private current: Portfolio | null = null;
  private readonly poller = new Poller(1000, () => this.value());
  private readonly select: HTMLSelectElement;
  private readonly createForm: HTMLFormElement;
  private readonly addForm: HTMLFormElement;
  private readonly deleteButton: HTMLButtonElement;
  private readonly result: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly foot: HTMLTableSectionElement;

  constructor(
    root: HTMLElement,
    private readonly transport: Transport,
  ) {
    const $ = <T extends Element>(selector: string) => root.querySelector<T>(selector)!;
    this.select = $('#portfolio-select');
    this.createForm = $('#portfolio-create');
    this.addForm = $('#position-add');
    this.deleteButton = $('#portfolio-delete');
    this.result = $('#portfolio-result');
    this.body = $('#positions tbody');
    this.foot = $('#positions tfoot');
    this.select.addEventListener('change', () => this.choose(this.select.value));
    this.createForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create(String(new FormData(this.createForm).get('name') ?? ''));
    });
    this.addForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(this.addForm);
      void this.addPosition(String(data.get('symbol') ?? ''), String(data.get('quantity') ?? ''), String(data.get('cost') ?? ''));
    });
    this.deleteButton.addEventListener('click', () => void this.deletePortfolio());
  }

  /** Loads the portfolios; values the shown one while the panel is visible. */
  async refresh(): Promise<void> {
    try {
      this.portfolios = (await this.transport.request<Portfolio[]>('portfolios')).data;
    } catch (error) {
      this.say('error', error);
    }
    this.renderOptions();
    this.choose(localStorage.getItem(KEY) ?? String(this.portfolios[0]?.id ?? ''));
  }

  /** Values the shown portfolio while the panel is shown. */
  setVisible(visible: boolean): void {
    this.poller.setActive(visible);
  }

  private renderOptions(): void {
    const options = this.portfolios.map((p) => new Option(p.name, String(p.id)));
    this.select.replaceChildren(...(options.length > 0 ? options : [new Option('No portfolios yet', '')]));
    this.select.value = this.current ? String(this.current.id) : '';
  }

  private choose(id: string): void {
    this.current = this.portfolios.find((p) => String(p.id) === id) ?? null;
    this.select.value = this.current ? String(this.current.id) : '';
    if (this.current) localStorage.setItem(KEY, String(this.current.id));
    this.addForm.hidden = this.deleteButton.hidden = this.current === null;
    this.body.replaceChildren();
    this.foot.replaceChildren();
    if (this.current) void this.value();
    else this.body.append(row(['Create a portfolio, then add positions: the engine values them at live prices.'], 'empty'));
  }

  private say(state: 'ok' | 'error', message: unknown): void {
    this.result.dataset.state = state;
    this.result.textContent = message instanceof RequestError ? message.message : String(message);
  }

  /** Asks the engine for the shown portfolio's value and draws it. */
  private async value(): Promise<void> {
    const portfolio = this.current;
    if (!portfolio) return;
    try {
      const valuation = (await this.transport.request<Valuation>(`portfolios/${portfolio.id}/value`)).data;
      if (this.current?.id === portfolio.id) this.render(valuation);
    } catch (error) {
      this.say('error', error);
    }
  }

  private render(v: Valuation): void {
    if (v.positions.length === 0) {
      this.body.replaceChildren(row(['No positions yet: add one above.'], 'empty'));
      this.foot.replaceChildren();
      return;
    }
    this.body.replaceChildren(
      ...v.positions.map((p) => {
        const tr = row([
          p.symbol,
          p.quantity.toLocaleString('en-US'),
          formatPrice(p.cost),
          p.price === null ? '—' : formatPrice(p.price),
          p.market_value === null ? '—' : money.format(p.market_value),
          p.pnl === null ? '—' : formatPnl(p.pnl),
          p.pnl_percent === null ? '—' : formatPercent(p.pnl_percent),
        ]);
        tr.dataset.symbol = p.symbol;
        tr.dataset.trend = (p.pnl ?? 0) > 0 ? 'up' : (p.pnl ?? 0) < 0 ? 'down' : 'flat';
        const cell = document.createElement('td');
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'small-button';
        remove.textContent = 'Remove';
        remove.setAttribute('aria-label', `Remove the ${p.symbol} position`);
        remove.addEventListener('click', () => void this.removePosition(p.symbol));
        cell.append(remove);
        tr.append(cell);
        return tr;
      }),
    );
    const total = row(['Total', '', money.format(v.cost_basis), '', money.format(v.market_value), formatPnl(v.pnl), formatPercent(v.pnl_percent), '']);
    total.dataset.trend = v.pnl > 0 ? 'up' : v.pnl < 0 ? 'down' : 'flat';
    total.dataset.pnl = String(v.pnl);
    this.foot.replaceChildren(total);
  }

  private async save(portfolio: Portfolio): Promise<boolean> {
    try {
      const saved = await this.transport.send<Portfolio>('PUT', `portfolios/${portfolio.id}`, portfolio);
      this.portfolios = this.portfolios.map((p) => (p.id === saved.id ? saved : p));
      this.current = saved;
      await this.value();
      return true;
    } catch (error) {
      this.say('error', error);
      return false;
    }
  }

  private async create(name: string): Promise<void> {
    try {
      const created = await this.transport.post<Portfolio>('portfolios', { name: name.trim(), positions: [] });
      this.portfolios.push(created);
      this.createForm.reset();
      this.renderOptions();
      this.choose(String(created.id));
      this.say('ok', `Portfolio ${created.name} created.`);
    } catch (error) {
      this.say('error', error);
    }
  }

  private async addPosition(symbol: string, quantity: string, cost: string): Promise<void> {
    const portfolio = this.current;
    if (!portfolio) return;
    const position = { symbol: symbol.trim().toUpperCase(), quantity: Number(quantity), cost: Number(cost) };
    if (quantity.trim() === '' || cost.trim() === '') {
      this.say('error', 'Quantity and cost per share are both needed.');
      return;
    }
    const positions = [...portfolio.positions.filter((p) => p.symbol !== position.symbol), position];
    if (await this.save({ ...portfolio, positions })) {
      this.addForm.reset();
      this.say('ok', `${position.symbol} position saved.`);
    }
  }

  private async removePosition(symbol: string): Promise<void> {
    const portfolio = this.current;
    if (!portfolio) return;
    if (await this.save({ ...portfolio, positions: portfolio.positions.filter((p) => p.symbol !== symbol) })) {
      this.say('ok', `${symbol} position removed.`);
    }
  }

  private async deletePortfolio(): Promise<void> {
    const portfolio = this.current;
    if (!portfolio) return;
    try {
      await this.transport.send<null>('DELETE', `portfolios/${portfolio.id}`);
      this.portfolios = this.portfolios.filter((p) => p.id !== portfolio.id);
      localStorage.removeItem(KEY);
      this.renderOptions();
      this.choose(String(this.portfolios[0]?.id ?? ''));
      this.say('ok', `Portfolio ${portfolio.name} deleted.`);
    } catch (error) {
      this.say('error', error);
    }
  }
}

function row(cells: string[], className?: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  if (className) tr.className = className;
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cells.length === 1) td.colSpan = 8;
    else if (i > 0) td.className = 'num';
    tr.append(td);
  });
  return tr;
}
