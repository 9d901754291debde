import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './render.js';

/**
 * Every series name the services register, read from their sources: each
 * `new Counter|Gauge|Histogram({ name: '…' })` or HotCounter|HotHistogram. A histogram is exposed as its
 * _bucket, _sum and _count series.
 */
export function definedMetricNames(): Set<string> {
  const names = new Set<string>();
  const servicesDir = join(REPO_ROOT, 'services');
  const files = readdirSync(servicesDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  // prom-client's classes and the hot-path ones of services/shared/hot-metrics.ts.
  const declaration = /new (Counter|Gauge|Histogram|HotCounter|HotHistogram)\(\{\s*name: '([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
  for (const file of files) {
    for (const match of readFileSync(join(servicesDir, file), 'utf8').matchAll(declaration)) {
      const [, type, name] = match;
      if (name === undefined) continue;
      if (type === 'Histogram' || type === 'HotHistogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      else names.add(name);
    }
  }
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Not a parser: it drops
 * strings, label matchers, ranges, grouping clauses and Grafana variables,
 * and what is left that is an identifier not followed by "(" names a metric.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const [, word, call] = match;
    if (word !== undefined && call === undefined && !PROMQL_WORDS.has(word.toLowerCase())) names.add(word);
  }
  return [...names];
}
