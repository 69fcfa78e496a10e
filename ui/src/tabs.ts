// The workspace tabs (WAI-ARIA tabs pattern): click or arrow keys, Home and
// End; the chosen tab is remembered. Listeners hear which tab is shown.

const KEY = 'tickstream.tab';

/** A tab's content that polls or draws only while shown: told when it is shown or hidden. */
export interface Panel {
  setVisible(shown: boolean): void;
}

export class Tabs {
  private readonly tabs: HTMLButtonElement[];
  private listeners: ((id: string) => void)[] = [];
  private current = '';

  constructor(list: HTMLElement) {
    this.tabs = [...list.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    for (const tab of this.tabs) {
      tab.addEventListener('click', () => this.show(tab.id));
      tab.addEventListener('keydown', (event) => {
        const i = this.tabs.indexOf(tab);
        const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: this.tabs.length - 1 }[event.key];
        if (to === undefined) return;
        event.preventDefault();
        const next = this.tabs[(to + this.tabs.length) % this.tabs.length]!;
        this.show(next.id);
        next.focus();
      });
    }
  }

  /** Shows the remembered tab (or the first). */
  start(): void {
    const saved = localStorage.getItem(KEY);
    this.show(this.tabs.some((t) => t.id === saved) ? saved! : this.tabs[0]!.id);
  }

  onShow(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  /** The panels that care whether they are shown, by their tab's id: each is told on every change. */
  setPanels(panels: Record<string, Panel>): void {
    this.onShow((shown) => {
      for (const [id, panel] of Object.entries(panels)) panel.setVisible(id === shown);
    });
  }

  /** The tab shown, e.g. `tab-ticks`. */
  shown(): string {
    return this.current;
  }

  show(id: string): void {
    this.current = id;
    localStorage.setItem(KEY, id);
    for (const tab of this.tabs) {
      const selected = tab.id === id;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')!)!.hidden = !selected;
    }
    for (const listener of this.listeners) listener(id);
  }
}
