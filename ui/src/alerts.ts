// Alert rules in the dashboard: a form that creates one
// (POST /api/v1/alerts), the list of rules with enable and delete
// (PUT, DELETE /api/v1/alerts/{id}). Firings arrive as `alert` market events.
import type { AlertRule } from './generated/AlertRule';
import type { Condition } from './generated/Condition';
import { RequestError, type Transport } from './transport';

type Kind = Condition['kind'];
type Field = 'level' | 'direction' | 'percent' | 'window' | 'factor' | 'lookback';

const FIELDS: Record<Kind, Field[]> = {
  price_cross: ['level', 'direction'],
  percent_move: ['percent', 'window'],
  volume_spike: ['factor', 'lookback'],
  spread_widening: ['factor', 'lookback'],
};

/** The condition a form's values describe. */
export function conditionFrom(kind: Kind, values: Partial<Record<Field, string>>): Record<string, unknown> {
  const condition: Record<string, unknown> = { kind };
  for (const field of FIELDS[kind]) {
    const value = values[field]?.trim() ?? '';
    if (value === '') continue;
    condition[field] = field === 'direction' || field === 'window' ? value : Number(value);
  }
  return condition;
}

/** A rule in words. */
export function describe(rule: AlertRule): string {
  if (rule.name) return rule.name;
  const c = rule.condition;
  switch (c.kind) {
    case 'price_cross':
      return `${rule.symbol} crosses ${c.direction && c.direction !== 'any' ? `${c.direction} ` : ''}${c.level}`;
    case 'percent_move':
      return `${rule.symbol} moves ${c.percent}% within ${c.window}`;
    case 'volume_spike':
      return `${rule.symbol} minute volume ×${c.factor}`;
    case 'spread_widening':
      return `${rule.symbol} spread ×${c.factor}`;
  }
}

export class AlertPanel {
  private readonly form: HTMLFormElement;
  private readonly kind: HTMLSelectElement;
  private readonly symbol: HTMLSelectElement;
  private readonly result: HTMLElement;
  private readonly list: HTMLUListElement;

  constructor(
    root: HTMLElement,
    private readonly transport: Transport,
  ) {
    this.form = root.querySelector('form')!;
    this.kind = root.querySelector('#alert-kind')!;
    this.symbol = root.querySelector('#alert-symbol')!;
    this.result = root.querySelector('#alert-result')!;
    this.list = root.querySelector('#alert-rules')!;
    this.kind.addEventListener('change', () => this.showFields());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create();
    });
    this.showFields();
  }

  setSymbols(symbols: string[]): void {
    const current = this.symbol.value;
    this.symbol.replaceChildren(...symbols.map((s) => new Option(s, s)));
    if (symbols.includes(current)) this.symbol.value = current;
  }

  /** Loads the rules from the engine. */
  async refresh(): Promise<void> {
    try {
      const rules = (await this.transport.request<AlertRule[]>('alerts')).data;
      this.render(rules);
    } catch (error) {
      this.say('error', error);
    }
  }

  private showFields(): void {
    const fields = FIELDS[this.kind.value as Kind];
    for (const label of this.form.querySelectorAll<HTMLElement>('[data-field]')) {
      label.hidden = !fields.includes(label.dataset.field as Field);
    }
  }

  private say(state: 'ok' | 'error', message: unknown): void {
    this.result.dataset.state = state;
    this.result.textContent = message instanceof RequestError ? message.message : String(message);
  }

  private async create(): Promise<void> {
    const kind = this.kind.value as Kind;
    const values: Partial<Record<Field, string>> = {};
    for (const field of FIELDS[kind]) {
      values[field] = this.form.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="alert-${field}"]`)?.value;
    }
    try {
      const rule = await this.transport.post<AlertRule>('alerts', { symbol: this.symbol.value, condition: conditionFrom(kind, values) });
      this.say('ok', `Rule ${rule.id} set: ${describe(rule)}.`);
      await this.refresh();
    } catch (error) {
      this.say('error', error);
    }
  }

  private render(rules: AlertRule[]): void {
    if (rules.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = 'No alert rules yet.';
      this.list.replaceChildren(empty);
      return;
    }
    this.list.replaceChildren(
      ...rules.map((rule) => {
        const item = document.createElement('li');
        item.className = 'alert-rule';
        item.dataset.id = String(rule.id);
        const text = document.createElement('span');
        text.textContent = describe(rule);
        const enabled = document.createElement('input');
        enabled.type = 'checkbox';
        enabled.checked = rule.enabled;
        enabled.setAttribute('aria-label', `Enable ${describe(rule)}`);
        enabled.addEventListener('change', () => void this.replace({ ...rule, enabled: enabled.checked }));
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = 'Delete';
        remove.setAttribute('aria-label', `Delete ${describe(rule)}`);
        remove.addEventListener('click', () => void this.remove(rule.id));
        item.append(enabled, text, remove);
        return item;
      }),
    );
  }

  private async replace(rule: AlertRule): Promise<void> {
    try {
      await this.transport.send<AlertRule>('PUT', `alerts/${rule.id}`, rule);
      await this.refresh();
    } catch (error) {
      this.say('error', error);
    }
  }

  private async remove(id: number): Promise<void> {
    try {
      await this.transport.send<null>('DELETE', `alerts/${id}`);
      await this.refresh();
    } catch (error) {
      this.say('error', error);
    }
  }
}
