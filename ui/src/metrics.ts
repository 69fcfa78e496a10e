// The metrics panel: ticks/s in and out, delivery latency p50/p99,
// connected clients, Kafka consumer lag and store writes/s, each with a
// small chart of the last minutes. The engine samples them once a second
// (GET /api/v1/metrics); the panel only draws.
import { formatVolume } from './format';
import type { MetricsSample } from './generated/MetricsSample';
import { sparkline } from './cards';
import { Poller } from './poller';
import type { Transport } from './transport';

type Field = keyof Omit<MetricsSample, 'timestamp'>;

const TILES: { field: Field; label: string; format: (v: number) => string }[] = [
  { field: 'ticks_in_per_second', label: 'Ticks in /s', format: (v) => formatVolume(v) },
  { field: 'ticks_out_per_second', label: 'Ticks out /s', format: (v) => formatVolume(v) },
  { field: 'latency_p50_ms', label: 'Latency p50', format: (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms` },
  { field: 'latency_p99_ms', label: 'Latency p99', format: (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms` },
  { field: 'clients', label: 'Clients', format: (v) => String(v) },
  { field: 'consumer_lag', label: 'Consumer lag', format: (v) => formatVolume(v) },
  { field: 'store_writes_per_second', label: 'Store writes /s', format: (v) => formatVolume(v) },
];

/** Samples charted per tile. */
const CHARTED = 60;

export class MetricsPanel {
  private readonly poller = new Poller(1000, () => this.refresh());

  constructor(
    private readonly root: HTMLElement,
    private readonly transport: Transport,
  ) {}

  /** Polls while the panel is shown. */
  setVisible(visible: boolean): void {
    this.poller.setActive(visible);
  }

  async refresh(): Promise<void> {
    try {
      const samples = (await this.transport.request<MetricsSample[]>('metrics')).data;
      this.render(samples.slice(-CHARTED));
    } catch (error) {
      this.root.replaceChildren(message(`Metrics unavailable: ${String(error)}`));
    }
  }

  private render(samples: MetricsSample[]): void {
    const last = samples.at(-1);
    if (!last) {
      this.root.replaceChildren(message('Waiting for the engine’s first samples…'));
      return;
    }
    this.root.replaceChildren(
      ...TILES.map(({ field, label, format }) => {
        const tile = document.createElement('figure');
        tile.className = 'metric';
        tile.dataset.metric = field;
        const value = last[field];
        const values = samples.map((s) => s[field]).filter((v): v is number => typeof v === 'number');
        tile.innerHTML = `<figcaption></figcaption><output></output>
          <svg viewBox="0 0 100 28" preserveAspectRatio="none" aria-hidden="true"><polyline points="" /></svg>`;
        tile.querySelector('figcaption')!.textContent = label;
        const output = tile.querySelector('output')!;
        output.textContent = value === null ? (field === 'consumer_lag' ? 'not Kafka' : '—') : format(value);
        if (value !== null) output.dataset.value = String(value);
        tile.querySelector('polyline')!.setAttribute('points', sparkline(values));
        return tile;
      }),
    );
  }
}

function message(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = text;
  return p;
}
