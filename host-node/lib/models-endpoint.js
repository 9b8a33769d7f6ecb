// GET /v1/models and GET /v1/models/{id}: what a client may ask for, in the shape of the SDK that
// asks. A request carrying `anthropic-version` gets Anthropic's shape
// (https://docs.anthropic.com/en/api/models-list: {data: [{type, id, display_name, created_at}],
// has_more, first_id, last_id}); any other gets OpenAI's ({object: "list", data: [{id, object,
// created, owned_by}]}). Providers configured with wildcards ("claude-*", "*") are listed by the
// concrete names the catalog's packages give for them. Model groups (config model_groups) are
// listed as models of their own.
'use strict';

const CREATED_AT = '2025-01-01T00:00:00Z';  // providers' own dates are not known here

// The catalog's model patterns: an exact name, or "prefix*" ("*" = any); core's model_pattern_matches.
function matches(pattern, name) {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

// providers: the configured providers; catalogModels(): [{provider_id, models}] of the catalog;
// groups: the configured model group names. Returns [{ id, owner }] in a stable order: auto
// first, then by name.
function listModels(providers, catalogModels, groups = []) {
  const out = new Map([['auto', 'quotagate']]);
  for (const g of groups) out.set(g, 'quotagate');
  const known = catalogModels();
  for (const p of providers) {
    for (const m of p.models) {
      if (!m.endsWith('*')) {
        if (!out.has(m)) out.set(m, p.name);
        continue;
      }
      for (const pkg of known) {
        if (pkg.provider_id !== p.name) continue;
        for (const name of pkg.models) if (typeof name === 'string' && !name.endsWith('*') && matches(m, name) && !out.has(name)) out.set(name, p.name);
      }
    }
  }
  const [auto, ...rest] = [...out];
  return [auto, ...rest.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))].map(([id, owner]) => ({ id, owner }));
}

const anthropicModel = (m) => ({ type: 'model', id: m.id, display_name: m.id, created_at: CREATED_AT });
const openAiModel = (m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owner });

// Adds the two routes to an express app. guard: the client-key middleware.
function addModelRoutes(app, { guard, providers, catalogModels, notFound, groups = [] }) {
  const isAnthropic = (req) => typeof req.headers['anthropic-version'] === 'string';
  app.get('/v1/models', guard, (req, res) => {
    const models = listModels(providers, catalogModels, groups);
    if (!isAnthropic(req)) return res.json({ object: 'list', data: models.map(openAiModel) });
    const data = models.map(anthropicModel);
    res.json({ data, has_more: false, first_id: data.length ? data[0].id : null, last_id: data.length ? data[data.length - 1].id : null });
  });
  app.get('/v1/models/{*id}', guard, (req, res) => {
    const id = [].concat(req.params.id).join('/');
    // A configured wildcard serves any name it matches, listed or not.
    const m = listModels(providers, catalogModels, groups).find((x) => x.id === id)
      || (providers.find((p) => p.models.some((pat) => matches(pat, id))) ? { id, owner: providers.find((p) => p.models.some((pat) => matches(pat, id))).name } : null);
    if (!m) return notFound(req, res, `model "${id.slice(0, 200)}" not found`);
    res.json(isAnthropic(req) ? anthropicModel(m) : openAiModel(m));
  });
}

module.exports = { addModelRoutes, listModels, matches };
