// How the page writes prices, volumes and times: all times in the viewer's own time zone.
export const UP_COLOUR = '#3fb950';
export const DOWN_COLOUR = '#ff7b72';

const pad = (n: number) => String(n).padStart(2, '0');

export const localTime = (ms: number, seconds = true) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
};

/** The viewer's zone as the page names it, e.g. "local time (UTC+01:00)". */
export const zone = (() => {
  const offset = -new Date().getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '−';
  return `local time (UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)})`;
})();

export const price = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(2));

export const volume = (value: number) =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e4 ? `${(value / 1e3).toFixed(1)}k` : String(value);
