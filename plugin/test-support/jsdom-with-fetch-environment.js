/*
 * jsdom, plus Node's Fetch API: jsdom has no fetch, and the datasource tests talk to a real
 * collector over HTTP the way the browser would (through the data-proxy stand-in).
 */
const { TestEnvironment } = require('jest-environment-jsdom');

class JsdomWithFetchEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    Object.assign(this.global, { fetch, Request, Response, Headers, AbortController, AbortSignal });
  }
}

module.exports = JsdomWithFetchEnvironment;
