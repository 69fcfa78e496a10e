// Market scenarios: a form that injects one into the simulator
// (POST /api/v1/scenarios); what happens shows in the events log.
import type { Scenario } from './generated/Scenario';
import type { ScenarioStatus } from './generated/ScenarioStatus';
import { RequestError, type Transport } from './transport';

type Kind = Scenario['kind'];
type Field = 'symbol' | 'depth' | 'fall' | 'recovery' | 'duration' | 'jump' | 'volatility' | 'decay' | 'from' | 'to' | 'size';

/** The form fields each kind of scenario uses. */
const FIELDS: Record<Kind, Field[]> = {
  flash_crash: ['symbol', 'depth', 'fall', 'recovery'],
  halt: ['symbol', 'duration'],
  resume: ['symbol'],
  news_shock: ['symbol', 'jump', 'volatility', 'decay'],
  regime_change: ['volatility'],
  sector_rotation: ['from', 'to', 'size', 'duration'],
};

/** The scenario a form's values describe; percentages become fractions. */
export function scenarioFrom(kind: Kind, values: Partial<Record<Field, string>>): Record<string, unknown> {
  const body: Record<string, unknown> = { kind };
  for (const field of FIELDS[kind]) {
    const value = values[field]?.trim() ?? '';
    if (value === '') continue;
    switch (field) {
      case 'depth':
      case 'jump':
      case 'size':
        body[field] = Number(value) / 100;
        break;
      case 'volatility':
        body[field] = Number(value);
        break;
      default:
        body[field] = value;
    }
  }
  return body;
}

export class ScenarioPanel {
  private readonly form: HTMLFormElement;
  private readonly kind: HTMLSelectElement;
  private readonly symbol: HTMLSelectElement;
  private readonly result: HTMLElement;

  constructor(
    root: HTMLElement,
    private readonly transport: Transport,
  ) {
    this.form = root.querySelector('form')!;
    this.kind = root.querySelector('#scenario-kind')!;
    this.symbol = root.querySelector('#scenario-symbol')!;
    this.result = root.querySelector('#scenario-result')!;
    this.kind.addEventListener('change', () => this.showFields());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.showFields();
  }

  /** The symbols a scenario can target. */
  setSymbols(symbols: string[]): void {
    const current = this.symbol.value;
    const options = [new Option('All symbols (market-wide)', ''), ...symbols.map((s) => new Option(s, s))];
    this.symbol.replaceChildren(...options);
    this.symbol.value = symbols.includes(current) ? current : (symbols[0] ?? '');
  }

  private showFields(): void {
    const fields = FIELDS[this.kind.value as Kind];
    for (const label of this.form.querySelectorAll<HTMLElement>('[data-field]')) {
      label.hidden = !fields.includes(label.dataset.field as Field);
    }
    // Only a flash crash can hit the whole market.
    const all = this.symbol.options[0];
    if (all) all.disabled = this.kind.value !== 'flash_crash';
    if (this.symbol.value === '' && this.kind.value !== 'flash_crash') this.symbol.selectedIndex = 1;
  }

  private async submit(): Promise<void> {
    const kind = this.kind.value as Kind;
    const values: Partial<Record<Field, string>> = {};
    for (const field of FIELDS[kind]) {
      values[field] = this.form.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${field}"]`)?.value;
    }
    this.result.dataset.state = 'pending';
    this.result.textContent = 'Sending…';
    try {
      const status = await this.transport.post<ScenarioStatus>('scenarios', scenarioFrom(kind, values));
      this.result.dataset.state = 'ok';
      this.result.textContent = `Scenario ${status.id} (${kind.replace('_', ' ')}) ${status.state}.`;
    } catch (error) {
      this.result.dataset.state = 'error';
      this.result.textContent = error instanceof RequestError ? error.message : String(error);
    }
  }
}
