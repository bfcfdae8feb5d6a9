/**
 * A small strict parser of the Prometheus text exposition format (0.0.4), for asserting metrics in tests. It rejects
 * what Prometheus would reject: a sample without a preceding TYPE, a malformed line, bad escapes, duplicate series,
 * a histogram without its +Inf bucket, or _count disagreeing with the +Inf bucket.
 */

/** One sample line. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family (`# TYPE` block). */
export interface PromFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  readonly samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  // Prometheus reads values with Go's ParseFloat, which takes these case-insensitively (prom-client writes 'Nan' for
  // an event-loop gauge that has no samples yet).
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: '${text}' is not a number`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const key = text.slice(i, eq).trim();
    if (!LABEL.test(key)) throw new Error(`line ${line}: bad label name '${key}'`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const ch = text[j];
      if (ch === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next ?? ''}`);
        j += 2;
        continue;
      }
      value += ch;
      j++;
    }
    if (Object.hasOwn(labels, key)) throw new Error(`line ${line}: label '${key}' twice`);
    labels[key] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`line ${line}: expected ',' between labels`);
  }
  return labels;
}

function familyOf(families: Map<string, PromFamily>, sample: string): PromFamily | undefined {
  const direct = families.get(sample);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

/** Parses an exposition; throws on the first violation. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // an ordinary comment
      const [, kind, name = '', rest = ''] = m;
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name '${name}'`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type '${rest}'`);
        if (families.get(name)?.samples.length) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        const help = families.get(name)?.help ?? '';
        families.set(name, { name, type: rest as PromFamily['type'], help, samples: [] });
      } else {
        const f = families.get(name);
        if (f) f.help = rest;
        else families.set(name, { name, type: 'untyped', help: rest, samples: [] });
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name = '', labelText = '', valueText = ''] = m;
    const family = familyOf(families, name);
    if (!family) throw new Error(`line ${line}: sample ${name} has no TYPE before it`);
    const labels = parseLabels(labelText, line);
    const key = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (seen.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    seen.add(key);
    family.samples.push({ name, labels, value: parseValue(valueText, line) });
  });
  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, { inf?: number; count?: number }>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      const entry = series.get(k) ?? {};
      if (s.name.endsWith('_bucket') && le === '+Inf') entry.inf = s.value;
      if (s.name.endsWith('_count')) entry.count = s.value;
      series.set(k, entry);
    }
    for (const [k, e] of series) {
      if (e.inf === undefined || e.count === undefined || e.inf !== e.count)
        throw new Error(`histogram ${f.name} ${k}: +Inf bucket and _count disagree`);
    }
  }
  return families;
}

/** The value of the sample `name` whose labels include `labels`; undefined if there is none. */
export function sampleValue(
  families: Map<string, PromFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = familyOf(families, name);
  const hit = family?.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return hit?.value;
}
