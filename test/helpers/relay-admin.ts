import type { RelayProcess } from './processes';

/** The admin URL a relay started with `--admin-port 0` printed. */
export async function adminUrlOf(relay: RelayProcess): Promise<string> {
  const match = await relay.waitFor(/admin listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return match[1];
}

/** One scrape of /metrics as `name{labels}` → value (labels as printed, e.g. `{code="200"}`). */
export async function scrape(adminUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${adminUrl}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}
