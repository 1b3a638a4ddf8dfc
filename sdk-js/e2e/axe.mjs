// axe-core in the page under test: injects `axe.source` (evaluated through the DevTools
// protocol, so the page's Content-Security-Policy does not stand in the way) and runs it on the
// whole document. Serious and critical violations are what the suites fail on; the rest is kept
// for the report.
import axe from 'axe-core';

export const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe on `page` and resolves with its violations, each as
 * `{ id, impact, help, helpUrl, targets: [{ selector, html, summary }] }`.
 */
export async function runAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(axe.source);
  const results = await page.evaluate(async () => {
    const outcome = await window.axe.run(document, { resultTypes: ['violations'] });
    return outcome.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => ({
        selector: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' '),
        html: n.html.length > 200 ? `${n.html.slice(0, 200)}…` : n.html,
        summary: n.failureSummary ?? '',
      })),
    }));
  });
  return results;
}

/**
 * The findings of `runAxe` on several page states (`{ state, path, who, theme, violation }`),
 * one entry per page path, theme, rule and element, naming the states it was seen in.
 */
export function describeViolations(found, { details = true } = {}) {
  const groups = new Map();
  for (const { state, path, who, theme, violation: v } of found) {
    for (const target of v.targets) {
      const key = `${path}|${theme}|${v.id}|${target.selector}`;
      const group = groups.get(key) ?? { path, theme, v, target, states: new Set() };
      group.states.add(`${who}: ${state}`);
      groups.set(key, group);
    }
  }
  return [...groups.values()]
    .map(({ path, theme, v, target, states }) => {
      const head = `  ${path} (${theme}) ${v.id} [${v.impact}] ${v.help}\n      element: ${target.selector}\n      seen in: ${[...states].join(', ')}`;
      if (!details) return head;
      return `${head}\n      html: ${target.html}\n      ${target.summary.replace(/\n/g, '\n      ')}\n      rule: ${v.helpUrl}`;
    })
    .join('\n');
}
