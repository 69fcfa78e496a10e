// Dark/light theme: the system's choice until the user picks one, then remembered.

export type Theme = 'dark' | 'light';

const KEY = 'tickstream.theme';

export function initialTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === 'dark' || saved === 'light') return saved;
  return window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export function applyTheme(theme: Theme, button: HTMLButtonElement): void {
  document.documentElement.dataset.theme = theme;
  const other = theme === 'dark' ? 'light' : 'dark';
  button.setAttribute('aria-label', `Switch to ${other} theme`);
}

export function saveTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
}

/** Colours the chart reads from the CSS theme variables. */
export function chartColors(): { background: string; text: string; grid: string; up: string; down: string } {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return { background: v('--panel'), text: v('--text-muted'), grid: v('--grid'), up: v('--up'), down: v('--down') };
}
