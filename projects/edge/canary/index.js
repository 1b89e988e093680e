'use strict';
/**
 * CloudWatch Synthetics canary entry point (handler `index.handler`; packaged as
 * `nodejs/node_modules/index.js` next to `probe.js`, see README.md).
 *
 * It probes the /health URL of every region listed in TARGETS, one Synthetics step per target
 * (so each region gets its own step success and duration metrics), then throws when any target
 * failed, which is how a Synthetics run is marked failed.
 *
 * The Synthetics libraries are loaded when the handler runs, not when this file is required,
 * so that `createHandler` can be exercised by `node --test` where the layer does not exist.
 */

const { loadConfig, probeTarget, verdict } = require('./probe');

// syn-nodejs-puppeteer-13.1 and later publish the libraries under @aws/*; the legacy names
// still resolve there and are the only ones on older Puppeteer runtimes.
const SYNTHETICS_MODULES = ['@aws/synthetics-puppeteer', 'Synthetics'];
const LOGGER_MODULES = ['@aws/synthetics-logger', 'SyntheticsLogger'];

/**
 * Require the first of `names` that resolves, rethrowing anything but "this module is absent".
 * @param {string[]} names
 * @param {(name: string) => unknown} [load=require]
 */
function requireFirst(names, load = require) {
  for (const name of names) {
    try {
      return load(name);
    } catch (err) {
      const missing = err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(`'${name}'`);
      if (!missing) throw err;
    }
  }
  throw new Error(`none of the Synthetics modules ${names.join(', ')} is available: is this a Node.js Puppeteer Synthetics runtime?`);
}

/**
 * Build the canary handler from its collaborators.
 * @param {object} deps
 * @param {{executeStep: Function}} deps.synthetics the Synthetics library
 * @param {{info: Function, error: Function}} deps.log the SyntheticsLogger
 * @param {Record<string, string|undefined>} [deps.env=process.env]
 * @param {Function} [deps.get] HTTP getter passed to probeTarget (default: node http/https)
 */
function createHandler({ synthetics, log, env = process.env, get } = {}) {
  return async function handler() {
    // A bad TARGETS/PROBE_TIMEOUT_MS throws here, before any step: the run fails with the
    // configuration message rather than with a misleading probe failure.
    const { targets, timeoutMs } = loadConfig(env);
    const results = [];
    for (const target of targets) {
      try {
        await synthetics.executeStep(`health-${target.name}`, async () => {
          const result = await probeTarget(target, { get, timeoutMs });
          results.push(result);
          if (!result.ok) {
            throw new Error(`${target.name} unhealthy: ${result.error}`);
          }
          log.info(`${target.name} healthy: HTTP ${result.status} in ${result.latencyMs} ms (${target.url})`);
        });
      } catch (err) {
        // The step is already recorded as failed; carry on so every region gets probed and
        // the verdict names all of the failed ones.
        log.error(`step health-${target.name} failed: ${err.message}`);
        if (!results.some((r) => r.name === target.name)) {
          results.push({ name: target.name, url: target.url, ok: false, status: null, latencyMs: 0, error: err.message });
        }
      }
    }
    const summary = verdict(results);
    log.info(summary);
    return summary;
  };
}

exports.createHandler = createHandler;
exports.requireFirst = requireFirst;
exports.handler = async () => {
  const synthetics = requireFirst(SYNTHETICS_MODULES);
  const log = requireFirst(LOGGER_MODULES);
  return createHandler({ synthetics, log })();
};
