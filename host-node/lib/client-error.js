// What a client is told when the gateway, not a provider, answers: ClientError (status, message,
// code and OpenAI's type/param vocabulary; gateway.js writeError renders it in the client's wire
// format), and the checks of a proxy request's body that raise it before anything is sent.
'use strict';
const { WireError } = require('./wire/neutral');
const { previousResponseRefused } = require('./wire/openai-responses');

// An answer to the client that is not a provider's success. type/param: OpenAI's vocabulary
// (rendered in the client's format by gateway.js writeError); extraHeaders: e.g. retry-after.
class ClientError extends Error {
  constructor(status, message, code, extraHeaders = {}, { type = null, param = null } = {}) {
    super(message);
    Object.assign(this, { status, code, extraHeaders, type, param });
  }
}

// A request the neutral form cannot carry (WireError) is the client's 4xx; anything else is ours.
function asClientError(err) {
  return err instanceof WireError ? new ClientError(err.status, err.message, err.code, {}, { type: err.type, param: err.param }) : err;
}

// Marks an error whose request line the proxy already wrote (gateway.js writeError skips its own).
function logged(err) {
  err.logged = true;
  return err;
}

const SAFE_MODEL = /^[\x20-\x7e]{1,256}$/;
// The body's nesting depth was checked on its bytes before parsing (gateway.js depthCheck).
function validateBody(body, kind) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClientError(400, 'request body must be a JSON object', 'invalid_request');
  if (typeof body.model !== 'string' || !body.model) throw new ClientError(400, '"model" must be a non-empty string (a model name or "auto")', 'invalid_request', {}, { param: 'model' });
  if (!SAFE_MODEL.test(body.model)) throw new ClientError(400, '"model" must be printable ASCII without control characters (at most 256)', 'invalid_request', {}, { param: 'model' });
  if (kind === 'responses') {
    if (typeof body.input !== 'string' && !Array.isArray(body.input)) throw new ClientError(400, '"input" must be a string or an array of items', 'invalid_request', {}, { param: 'input' });
    // Stateless for every provider, a Responses one included: nothing is stored to continue from.
    if (body.previous_response_id) throw asClientError(previousResponseRefused());
  } else if (!Array.isArray(body.messages)) throw new ClientError(400, '"messages" must be an array', 'invalid_request', {}, { param: 'messages' });
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new ClientError(400, '"stream" must be true or false', 'invalid_request');
  if (kind === 'messages' && body.max_tokens !== undefined && !Number.isInteger(body.max_tokens)) throw new ClientError(400, '"max_tokens" must be an integer', 'invalid_request', {}, { param: 'max_tokens' });
}

module.exports = { ClientError, asClientError, logged, validateBody };
