// Volume analysis: each symbol's session volume, share and distance from
// its VWAP, and the volume traded by time of day in the exchange's zone.
// The engine computes both (GET /api/v1/volume); refreshed every few
// seconds while shown.
import { formatPercent, formatPrice, formatVolume } from './format';
import type { VolumeReport } from './generated/VolumeReport';
import { Poller } from './poller';
import type { Transport } from './transport';

export class VolumePanel {
  private readonly poller = new Poller(5000, () => this.refresh());

  constructor(
    private readonly symbols: HTMLTableSectionElement,
    private readonly day: HTMLElement,
    private readonly zone: HTMLElement,
    private readonly transport: Transport,
  ) {}

  /** Polls while the panel is shown. */
  setVisible(visible: boolean): void {
    this.poller.setActive(visible);
  }

  async refresh(): Promise<void> {
    try {
      this.render((await this.transport.request<VolumeReport>('volume', { days: 5, minutes: 30 })).data);
    } catch (error) {
      this.day.textContent = `Volume analysis unavailable: ${String(error)}`;
    }
  }

  private render(report: VolumeReport): void {
    this.symbols.replaceChildren(
      ...report.symbols.map((s) => {
        const tr = document.createElement('tr');
        tr.dataset.symbol = s.symbol;
        const deviation = s.vwap_deviation_percent;
        tr.dataset.trend = deviation > 0 ? 'up' : deviation < 0 ? 'down' : 'flat';
        tr.innerHTML = `<td></td><td class="num"></td><td><span class="share"><span class="share-bar"></span><span class="share-text"></span></span></td><td class="num"></td><td class="num deviation"></td>`;
        const cells = tr.cells;
        cells[0]!.textContent = s.symbol;
        cells[1]!.textContent = formatVolume(s.volume);
        (tr.querySelector('.share-bar') as HTMLElement).style.width = `${Math.min(100, s.share_percent).toFixed(1)}%`;
        tr.querySelector('.share-text')!.textContent = `${s.share_percent.toFixed(1)} %`;
        cells[3]!.textContent = formatPrice(s.vwap);
        cells[4]!.textContent = formatPercent(deviation);
        return tr;
      }),
    );
    const slots = report.time_of_day.slots;
    this.zone.textContent = `(${report.time_of_day.timezone}, mean of ${report.time_of_day.days} day${report.time_of_day.days === 1 ? '' : 's'})`;
    if (slots.length === 0) {
      this.day.textContent = 'No stored volume yet.';
      return;
    }
    const top = Math.max(...slots.map((s) => s.volume));
    this.day.setAttribute(
      'aria-label',
      `Volume by time of day: ${slots.map((s) => `${s.start} ${formatVolume(s.volume)}`).join(', ')}`,
    );
    this.day.replaceChildren(
      ...slots.map((s) => {
        const bar = document.createElement('div');
        bar.className = 'bar';
        bar.dataset.start = s.start;
        bar.title = `${s.start}: ${formatVolume(s.volume)} (${s.share_percent.toFixed(1)} %)`;
        const fill = document.createElement('span');
        fill.style.height = `${((s.volume / top) * 100).toFixed(1)}%`;
        const label = document.createElement('small');
        label.textContent = s.start.endsWith(':00') ? s.start.slice(0, 2) : '';
        bar.append(fill, label);
        return bar;
      }),
    );
  }
}
