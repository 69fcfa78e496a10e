// Dark/light/system theme: the system's choice until the user picks one,
// then remembered. "system" follows the OS as it changes.

export type ThemeChoice = 'system' | 'dark' | 'light';
export type Theme = 'dark' | 'light';

const KEY = 'tickstream.theme';
export const THEME_CHOICES: ThemeChoice[] = ['system', 'dark', 'light'];

const prefersLight = () => window.matchMedia('(prefers-color-scheme: light)');

export function savedChoice(): ThemeChoice {
  const saved = localStorage.getItem(KEY);
  return saved === 'dark' || saved === 'light' ? saved : 'system';
}

/** The theme a choice resolves to now. */
export function resolve(choice: ThemeChoice, systemLight = prefersLight().matches): Theme {
  if (choice !== 'system') return choice;
  return systemLight ? 'light' : 'dark';
}

/** Applies and remembers a choice; `onChange` runs whenever the shown theme changes (also when the OS flips). */
export class ThemeControl {
  private choice = savedChoice();

  constructor(
    private readonly select: HTMLSelectElement,
    private readonly onChange: () => void,
  ) {
    select.value = this.choice;
    select.addEventListener('change', () => this.set(select.value as ThemeChoice));
    prefersLight().addEventListener('change', () => {
      if (this.choice === 'system') this.apply();
    });
    this.apply();
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    this.select.value = choice;
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
    this.apply();
  }

  /** The next choice in the list (for the `t` shortcut). */
  cycle(): void {
    this.set(THEME_CHOICES[(THEME_CHOICES.indexOf(this.choice) + 1) % THEME_CHOICES.length]!);
  }

  private apply(): void {
    document.documentElement.dataset.theme = resolve(this.choice);
    this.onChange();
  }
}

/** Colours the chart reads from the CSS theme variables. */
export function chartColors(): { background: string; text: string; grid: string; up: string; down: string } {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return { background: v('--panel'), text: v('--text-muted'), grid: v('--grid'), up: v('--up'), down: v('--down') };
}
