'use strict';
/**
 * Pure probe logic of the regional health canary.
 *
 * This module must not require the Synthetics runtime libraries (`Synthetics`,
 * `SyntheticsLogger`, `@aws/synthetics-*`): they exist only in the canary's Lambda layer, and
 * this file is tested with Node's own test runner (`node --test projects/edge/canary/`).
 *
 * A target is healthy only when its URL answers HTTP 200 with a body that parses as JSON,
 * within the probe timeout. Anything else (another status, a body that is not JSON, a timeout,
 * a refused or reset connection, a DNS failure) is a failure with a one-line reason.
 */

const http = require('node:http');
const https = require('node:https');

const DEFAULT_TIMEOUT_MS = 5000;
// A /health body is a few hundred bytes; anything far larger is not our handler answering.
const MAX_BODY_BYTES = 1024 * 1024;
const USER_AGENT = 'trading-dr-health-canary';

/** Raised for a bad TARGETS or PROBE_TIMEOUT_MS value; the message names the variable. */
class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Raised (as the abort reason) when a probe exceeds its deadline. */
class ProbeTimeoutError extends Error {
  constructor(timeoutMs) {
    super(`timeout after ${timeoutMs} ms`);
    this.name = 'ProbeTimeoutError';
    this.code = 'ETIMEDOUT';
  }
}

const TARGETS_SHAPE = 'expected a JSON array of {"name", "url"} objects';

/**
 * Parse and validate the TARGETS environment value.
 * @param {string|undefined} raw JSON text, e.g. '[{"name":"us-east-1","url":"https://…/health"}]'
 * @returns {{name: string, url: string}[]}
 * @throws {ConfigError} naming TARGETS, the offending entry and what is expected
 */
function parseTargets(raw) {
  if (raw === undefined || raw === null || String(raw).trim() === '') {
    throw new ConfigError(`TARGETS is not set: ${TARGETS_SHAPE}`);
  }
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`TARGETS is not valid JSON (${err.message}): ${TARGETS_SHAPE}`);
  }
  if (!Array.isArray(parsed)) {
    throw new ConfigError(`TARGETS must be a JSON array, got ${describeType(parsed)}: ${TARGETS_SHAPE}`);
  }
  if (parsed.length === 0) {
    throw new ConfigError(`TARGETS is an empty array: ${TARGETS_SHAPE}`);
  }
  const seen = new Set();
  return parsed.map((entry, index) => {
    const where = `TARGETS[${index}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ConfigError(`${where} must be an object with "name" and "url", got ${describeType(entry)}`);
    }
    const { name, url } = entry;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ConfigError(`${where}.name must be a non-empty string`);
    }
    if (seen.has(name)) {
      throw new ConfigError(`${where}.name ${JSON.stringify(name)} is a duplicate; target names must be unique`);
    }
    seen.add(name);
    if (typeof url !== 'string' || url.trim() === '') {
      throw new ConfigError(`${where}.url must be a non-empty string`);
    }
    let parsedUrl;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new ConfigError(`${where}.url ${JSON.stringify(url)} is not a valid URL`);
    }
    if (parsedUrl.protocol !== 'https:' && parsedUrl.protocol !== 'http:') {
      throw new ConfigError(`${where}.url ${JSON.stringify(url)} must use https or http`);
    }
    return { name, url };
  });
}

/**
 * Parse PROBE_TIMEOUT_MS: a positive integer of milliseconds, default 5000.
 * @param {string|undefined} raw
 * @returns {number}
 */
function parseTimeoutMs(raw) {
  if (raw === undefined || raw === null || String(raw).trim() === '') {
    return DEFAULT_TIMEOUT_MS;
  }
  const text = String(raw).trim();
  if (!/^\d+$/.test(text) || Number(text) <= 0) {
    throw new ConfigError(`PROBE_TIMEOUT_MS ${JSON.stringify(String(raw))} must be a positive integer of milliseconds`);
  }
  return Number(text);
}

/**
 * Read the probe configuration from an environment object.
 * @param {Record<string, string|undefined>} [env=process.env]
 * @returns {{targets: {name: string, url: string}[], timeoutMs: number}}
 */
function loadConfig(env = process.env) {
  return { targets: parseTargets(env.TARGETS), timeoutMs: parseTimeoutMs(env.PROBE_TIMEOUT_MS) };
}

/**
 * Default HTTP getter: one GET with Node's http/https module.
 *
 * The getter contract (what an injected getter must implement):
 *   get(url, {signal}) -> Promise<{status: number, body: string}>
 * It resolves for any HTTP response (whatever the status) and rejects on a transport error or
 * when `signal` aborts. probeTarget owns the deadline and aborts `signal` when it passes.
 *
 * @param {string} url
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<{status: number, body: string}>}
 */
function httpGet(url, { signal } = {}) {
  return new Promise((resolve, reject) => {
    const client = new URL(url).protocol === 'http:' ? http : https;
    const req = client.get(
      url,
      { signal, headers: { accept: 'application/json', 'user-agent': USER_AGENT } },
      (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (chunk) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy(new Error(`response body larger than ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

/**
 * Probe one target and classify the outcome. Never throws: every failure becomes a result.
 * @param {{name: string, url: string}} target
 * @param {{get?: Function, timeoutMs?: number}} [options]
 * @returns {Promise<{name: string, url: string, ok: boolean, status: number|null,
 *   latencyMs: number, error: string|null}>}
 */
async function probeTarget(target, { get = httpGet, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const { name, url } = target;
  const controller = new AbortController();
  const timeoutError = new ProbeTimeoutError(timeoutMs);
  let timer;
  // The deadline is enforced here, not only inside the getter, so an injected getter that
  // ignores the signal still cannot hang the canary past its timeout.
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(timeoutError);
      reject(timeoutError);
    }, timeoutMs);
  });
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);

  let response;
  try {
    response = await Promise.race([get(url, { signal: controller.signal, timeoutMs }), deadline]);
  } catch (err) {
    const timedOut = controller.signal.aborted && controller.signal.reason === timeoutError;
    const reason = timedOut ? timeoutError.message : `request failed: ${describeError(err)}`;
    return { name, url, ok: false, status: null, latencyMs: elapsed(), error: reason };
  } finally {
    clearTimeout(timer);
  }

  const latencyMs = elapsed();
  const status = response.status;
  if (status !== 200) {
    return { name, url, ok: false, status, latencyMs, error: `HTTP ${status} (expected 200)` };
  }
  try {
    JSON.parse(response.body);
  } catch (err) {
    return { name, url, ok: false, status, latencyMs, error: `invalid JSON body (${err.message})` };
  }
  return { name, url, ok: true, status, latencyMs, error: null };
}

/**
 * Probe every target concurrently; results come back in the order of `targets`.
 * @param {{name: string, url: string}[]} targets
 * @param {{get?: Function, timeoutMs?: number}} [options]
 */
function probeAll(targets, options = {}) {
  return Promise.all(targets.map((target) => probeTarget(target, options)));
}

/**
 * Turn probe results into the canary verdict.
 * Synthetics marks a run failed when the handler throws, so a failure is an Error whose message
 * names every failed target and its reason. An empty result list is a failure too: a canary
 * that probed nothing must not report success.
 * @param {{name: string, url: string, ok: boolean, error: string|null}[]} results
 * @returns {string} a one-line summary when every target is healthy
 * @throws {Error}
 */
function verdict(results) {
  if (!Array.isArray(results) || results.length === 0) {
    throw new Error('health canary failed: no targets were probed');
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const detail = failed.map((r) => `${r.name} (${r.url}): ${r.error}`).join('; ');
    throw new Error(`health canary failed: ${failed.length} of ${results.length} targets unhealthy: ${detail}`);
  }
  return `all ${results.length} targets healthy: ${results.map((r) => `${r.name} ${r.latencyMs} ms`).join(', ')}`;
}

function describeType(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function describeError(err) {
  if (!err) return 'unknown error';
  const code = err.code && !String(err.message).includes(err.code) ? `${err.code} ` : '';
  return `${code}${err.message || String(err)}`.trim();
}

module.exports = {
  ConfigError,
  DEFAULT_TIMEOUT_MS,
  ProbeTimeoutError,
  httpGet,
  loadConfig,
  parseTargets,
  parseTimeoutMs,
  probeAll,
  probeTarget,
  verdict,
};
