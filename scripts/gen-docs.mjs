#!/usr/bin/env node
// Generates the tables of docs/options.md (from the option table in src/config/options/) and docs/errors.md (from REASONS and
// RELOAD_REASONS in src/errors.ts), reading the compiled modules in dist/src (run `npm run build` first). Only the
// parts between `<!-- generated:NAME -->` and `<!-- /generated -->` are rewritten; the prose around them is
// hand-written. `npm run docs` writes the files; `--check` only compares and exits 1 naming each stale file, so a
// test keeps the committed docs current. `--docs DIR` reads and writes DIR instead of docs/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const load = (file) => import(pathToFileURL(join(root, 'dist', 'src', file)).href);

/** Markdown table cell: `|` escaped, no line breaks. */
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells) => `| ${cells.map(cell).join(' | ')} |`;

/** Hand-written remarks on reason codes that the catalogue text (sent to clients) leaves out. */
const REASON_NOTES = {
  TARGET_TLS_UNKNOWN_CA: 'with `--ssl-target`; give `--target-ca`',
  TARGET_TLS_NAME_MISMATCH: 'give `--target-servername`',
  TARGET_TLS_FAILED: 'e.g. the target wants a client certificate: `--target-cert`',
  INTERNAL_ERROR: 'after the upgrade the session is closed with 1011',
  OPEN_RELAY: 'start-up warning, also given by `wsproxy check`',
  WEB_SECRET_HIDDEN: 'start-up warning',
};
const RELOAD_NOTES = {
  TOKEN_SOURCE_UNUSABLE: 'a new Redis gets `--connect-timeout`, at most 5 s, to connect',
  RELOAD_UNAVAILABLE: 'each worker has 30 s to answer',
};

function formatDefault(spec) {
  const value = spec.default;
  if (value === undefined) return spec.shown ?? (spec.fallback === undefined ? 'none' : `\`${spec.fallback}\``);
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return `\`${String(value)}\``;
}

function formatFlag(name, spec, envName) {
  const forms = [`\`--${name}${spec.arg ? ` ${spec.arg}` : ''}\``];
  if (spec.kind === 'boolean' && spec.default === true) forms.push(`\`--no-${name}\``);
  if (spec.alias !== undefined) forms.push(spec.alias.length === 1 ? `\`-${spec.alias}\`` : `\`--${spec.alias}\``);
  const env = envName(name);
  return forms.join(', ') + (env === undefined ? '' : `<br>\`${env}\``);
}

/** The words of a text, for telling whether the detail says more than the help line. */
const words = (text) =>
  String(text)
    .toLowerCase()
    .match(/[a-z0-9]{4,}/g) ?? [];

/** The longer text, unless every word of it is already in the help line. */
function detailOf(spec, help) {
  const detail = spec.detail ?? '';
  const known = new Set(words(help));
  return words(detail).every((w) => known.has(w)) ? '' : detail;
}

async function optionTables() {
  const { OPTION_ENTRIES, envName, helpLine } = await load('config/options/index.js');
  const groups = new Map();
  for (const [name, spec] of OPTION_ENTRIES) {
    if (!groups.has(spec.group)) groups.set(spec.group, []);
    groups.get(spec.group).push([name, spec]);
  }
  const out = [];
  for (const [group, options] of groups) {
    out.push(
      `### ${group}`,
      '',
      row(['Option', 'Default', 'Meaning (`--help`)', 'In detail', 'Differs from websockify']),
    );
    out.push('|---|---|---|---|---|');
    for (const [name, spec] of options) {
      const help = helpLine(spec);
      out.push(
        row([formatFlag(name, spec, envName), formatDefault(spec), help, detailOf(spec, help), spec.websockify ?? '']),
      );
    }
    out.push('');
  }
  return out.join('\n');
}

async function reasonTable() {
  const { REASONS } = await load('errors.js');
  const out = [
    row(['Code', 'HTTP status', 'Close code', 'Text (sent to the client, logged)', 'Note']),
    '|---|---|---|---|---|',
  ];
  for (const [code, entry] of Object.entries(REASONS)) {
    out.push(row([`\`${code}\``, entry.status ?? '—', entry.closeCode ?? '—', entry.text, REASON_NOTES[code] ?? '']));
  }
  return out.join('\n') + '\n';
}

async function reloadTable() {
  const { RELOAD_REASONS } = await load('errors.js');
  const out = [row(['Code', 'Meaning', 'Note']), '|---|---|---|'];
  for (const [code, text] of Object.entries(RELOAD_REASONS))
    out.push(row([`\`${code}\``, text, RELOAD_NOTES[code] ?? '']));
  return out.join('\n') + '\n';
}

/** Replaces the body of each `<!-- generated:NAME -->` block of `text` with `parts[NAME]`. */
export function fill(text, parts, file) {
  return text.replace(/(<!-- generated:([a-z-]+) -->\n)[\s\S]*?(<!-- \/generated -->)/g, (_, open, name, close) => {
    if (!(name in parts)) throw new Error(`${file}: unknown generated block '${name}'`);
    return `${open}${parts[name]}${close}`;
  });
}

/** The generated docs: file name → [committed text, text it should have]. */
export async function renderDocs(dir) {
  const blocks = {
    'options.md': { options: await optionTables() },
    'errors.md': { reasons: await reasonTable(), 'reload-reasons': await reloadTable() },
  };
  const result = new Map();
  for (const [file, parts] of Object.entries(blocks)) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    for (const name of Object.keys(parts)) {
      if (!text.includes(`<!-- generated:${name} -->`))
        throw new Error(`${path}: the <!-- generated:${name} --> block is missing`);
    }
    result.set(path, [text, fill(text, parts, path)]);
  }
  return result;
}

async function main(argv) {
  const at = argv.indexOf('--docs');
  const dir = at >= 0 ? argv[at + 1] : join(root, 'docs');
  const stale = [];
  for (const [path, [now, want]] of await renderDocs(dir)) {
    if (now === want) continue;
    if (argv.includes('--check')) stale.push(path);
    else writeFileSync(path, want);
  }
  if (stale.length > 0) {
    console.error(
      `gen-docs: ${stale.join(', ')} not current; run 'npm run build && npm run docs' and commit the result`,
    );
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`gen-docs: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  });
}
