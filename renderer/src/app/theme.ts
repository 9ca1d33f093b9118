import { useEffect, useState } from 'react';

/** The chosen theme is remembered on this machine (a preference, nothing secret). */
const THEME_KEY = 'gatehouse.theme';
function savedTheme(): string | null {
  try {
    return localStorage.getItem(THEME_KEY);
  } catch {
    return null; // storage unavailable: the system theme
  }
}
function saveTheme(theme: string): void {
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // not remembered, still applied
  }
}

export function useTheme(): [theme: string, setTheme: (theme: string) => void] {
  const [theme, setTheme] = useState(() => savedTheme() ?? document.documentElement.dataset.theme ?? 'auto');
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    saveTheme(theme);
  }, [theme]);
  return [theme, setTheme];
}
