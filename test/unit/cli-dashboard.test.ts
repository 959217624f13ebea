/**
 * config/grafana/ferry-dashboard.json: every PromQL expression uses only metrics that FerryMetrics
 * registers (histograms through their _bucket/_sum/_count series), is filtered by the `pipeline`
 * template variable, and every ferry metric appears on some panel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { projectRoot } from '../../src/sandbox/index.js';

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(
  readFileSync(join(projectRoot(), 'config', 'grafana', 'ferry-dashboard.json'), 'utf8'),
) as {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
};

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** name → type, as prom-client registers them. */
async function registered(): Promise<Map<string, string>> {
  const metrics = new FerryMetrics('dashboard-test');
  const json = await metrics.registry.getMetricsAsJSON();
  return new Map(json.map((m) => [m.name, String(m.type)]));
}

/** The metric names an expression reads (identifiers starting with ferry_). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bferry_[a-z0-9_]+/g)].map((m) => m[0]);
}

describe('Grafana dashboard', () => {
  it('is a dashboard with panels and expressions', () => {
    expect(dashboard.title).toBe('ferry');
    expect(dashboard.uid).toBeTruthy();
    expect(panels.length).toBeGreaterThan(10);
    expect(exprs.length).toBeGreaterThan(panels.length);
    for (const p of panels) expect(p.datasource?.uid, p.title).toBe(`\${datasource}`);
  });

  it('every expression references only metrics FerryMetrics registers', async () => {
    const known = await registered();
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (base !== name) {
          expect(known.get(base), `${panel}: ${name} is not a series of a ferry histogram`).toBe('histogram');
        } else {
          expect(known.has(name), `${panel}: unknown metric ${name}`).toBe(true);
          expect(known.get(name), `${panel}: ${name} is a histogram; use _bucket, _sum or _count`).not.toBe(
            'histogram',
          );
        }
      }
    }
  });

  it('every metric appears on some panel', async () => {
    const used = new Set(
      exprs.flatMap(({ expr }) => metricNames(expr).map((n) => n.replace(/_(bucket|sum|count)$/, ''))),
    );
    expect([...(await registered()).keys()].filter((name) => !used.has(name))).toEqual([]);
  });

  it('every metric selector is filtered by the pipeline variable', () => {
    for (const { panel, expr } of exprs) {
      for (const m of expr.matchAll(/\bferry_[a-z0-9_]+(\{[^}]*\})?/g)) {
        expect(m[1], `${panel}: ${m[0]}`).toContain('pipeline=~"$pipeline"');
      }
    }
  });

  it('latency panels use histogram_quantile over rate of buckets by le', () => {
    for (const metric of ['ferry_kafka_produce_seconds', 'ferry_sink_batch_seconds', 'ferry_end_to_end_seconds']) {
      const quantiles = exprs.filter(({ expr }) => expr.includes(`${metric}_bucket`));
      expect(quantiles.length, metric).toBe(3);
      for (const { expr } of quantiles) expect(expr).toMatch(/^histogram_quantile\(0\.\d+, sum by \(le\) \(rate\(/);
    }
  });

  it('expressions are balanced', () => {
    for (const { panel, expr } of exprs) {
      let depth = 0;
      for (const ch of expr) {
        if ('({['.includes(ch)) depth++;
        if (')}]'.includes(ch)) depth--;
        expect(depth, `${panel}: ${expr}`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${panel}: ${expr}`).toBe(0);
    }
  });

  it('has a pipeline template variable (multi, with All) from a ferry metric', async () => {
    const v = dashboard.templating.list.find((t) => t.name === 'pipeline');
    expect(v?.type).toBe('query');
    const known = await registered();
    const name = /label_values\((ferry_[a-z_]+), pipeline\)/.exec(v?.definition ?? '')?.[1];
    expect(name && known.has(name)).toBe(true);
    expect(dashboard.templating.list.find((t) => t.name === 'datasource')?.type).toBe('datasource');
  });
});
