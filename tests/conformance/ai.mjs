// OpenAI, Groq and Gemini fakes (tests/fakes/ai_fake.py) driven by the official clients: titan's
// own request bodies (printed by titan_requests.lua) must be accepted and answered in a shape the
// client parses, and the errors the real APIs give must reach the client as the same error classes.
import OpenAI from 'openai';
import Groq from 'groq-sdk';
import { GoogleGenAI, ApiError } from '@google/genai';
import { eq, ok, rejects, control, isDecision } from './check.mjs';

// The error object a Stainless client (openai, groq-sdk) kept from the body: openai unwraps
// {"error": {...}}, groq-sdk keeps the whole body.
const errorBody = (e) => e.error?.error ?? e.error ?? {};

export function checks(env) {
  const base = env.AI_URL;
  const reset = () => control(`${base}/_reset`);
  const script = (body) => control(`${base}/_control`, body);
  const titan = JSON.parse(env.TITAN_AI_REQUESTS);
  const openai = new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: `${base}/v1`, maxRetries: 0, timeout: 10000 });
  const groq = new Groq({ apiKey: env.GROQ_API_KEY, baseURL: base, maxRetries: 0, timeout: 10000 });
  const gemini = new GoogleGenAI({ apiKey: env.GEMINI_API_KEY,
                                   httpOptions: { baseUrl: base, apiVersion: 'v1beta', timeout: 10000 } });
  // titan's Gemini body as the SDK's parameters (it rebuilds the same body from them)
  const geminiParams = (model, extra = {}) => ({
    model, contents: titan.gemini.contents,
    config: { systemInstruction: titan.gemini.systemInstruction, ...titan.gemini.generationConfig, ...extra },
  });
  const withModel = (body, model, drop = []) => {
    const copy = { ...body, model };
    for (const k of drop) delete copy[k];
    return copy;
  };

  return [
    ['openai: titan\'s request (strict json_schema) answers a decision with usage', async () => {
      await reset();
      const r = await openai.chat.completions.create(titan.openai);
      isDecision(r.choices[0].message.content, 'content');
      eq(r.choices[0].finish_reason, 'stop', 'finish_reason');
      ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0, 'usage');
    }],
    ['openai: the model list names titan\'s default model', async () => {
      const ids = [];
      for await (const m of openai.models.list()) ids.push(m.id);
      ok(ids.includes(titan.openai.model), `${titan.openai.model} in ${ids}`);
    }],
    ['openai: temperature on a reasoning model is a BadRequestError (unsupported_value)', async () => {
      const e = await rejects(openai.chat.completions.create(withModel(titan.openai, 'o4-mini')),
                              OpenAI.BadRequestError, { status: 400, code: 'unsupported_value', param: 'temperature' });
      ok(/temperature/.test(e.message), e.message);
      await rejects(openai.chat.completions.create(withModel(titan.openai, 'o3-mini')),
                    OpenAI.BadRequestError, { code: 'unsupported_parameter' });
    }],
    ['openai: a reasoning model without temperature answers; completion tokens include the reasoning', async () => {
      const r = await openai.chat.completions.create(withModel(titan.openai, 'gpt-5-mini', ['temperature']));
      isDecision(r.choices[0].message.content, 'content');
      const reasoning = r.usage.completion_tokens_details.reasoning_tokens;
      ok(reasoning > 0 && r.usage.completion_tokens > reasoning, 'reasoning tokens inside completion_tokens');
    }],
    ['openai: an unknown model is a NotFoundError (404 model_not_found)', async () => {
      await rejects(openai.chat.completions.create(withModel(titan.openai, 'gpt-9-turbo')),
                    OpenAI.NotFoundError, { status: 404, code: 'model_not_found' });
    }],
    ['openai: a wrong key is an AuthenticationError', async () => {
      const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${base}/v1`, maxRetries: 0 });
      await rejects(bad.chat.completions.create(titan.openai), OpenAI.AuthenticationError, { status: 401 });
    }],
    ['openai: 429 rate_limit_exceeded is a RateLimitError with retry-after', async () => {
      await reset();
      await script({ provider: 'openai', mode: 'rate_limit', retry_after: '2', times: 1 });
      const e = await rejects(openai.chat.completions.create(titan.openai), OpenAI.RateLimitError,
                              { status: 429, code: 'rate_limit_exceeded' });
      eq(e.headers.get('retry-after'), '2', 'retry-after');
    }],
    ['openai: a refusal comes back in message.refusal', async () => {
      await reset();
      await script({ provider: 'openai', mode: 'refusal', times: 1 });
      const r = await openai.chat.completions.create(titan.openai);
      ok(typeof r.choices[0].message.refusal === 'string', 'refusal');
      eq(r.choices[0].message.content, null, 'content');
    }],

    ['groq: titan\'s request (JSON mode) answers a decision', async () => {
      await reset();
      const r = await groq.chat.completions.create(titan.groq);
      isDecision(r.choices[0].message.content, 'content');
      ok(r.usage.total_tokens > 0, 'usage');
    }],
    ['groq: strict json_schema on a model without it is a BadRequestError naming response_format', async () => {
      const body = { ...titan.groq, response_format: titan.openai.response_format };
      const e = await rejects(groq.chat.completions.create(body), Groq.BadRequestError, { status: 400 });
      eq(errorBody(e).param, 'response_format', 'param');
      ok(/json_schema/.test(errorBody(e).message), errorBody(e).message);
    }],
    ['groq: strict json_schema on gpt-oss is accepted', async () => {
      const body = { ...titan.groq, model: 'openai/gpt-oss-20b', response_format: titan.openai.response_format };
      isDecision((await groq.chat.completions.create(body)).choices[0].message.content, 'content');
    }],
    ['groq: an unknown model is a NotFoundError (model_not_found)', async () => {
      const e = await rejects(groq.chat.completions.create(withModel(titan.groq, 'llama-9-huge')), Groq.NotFoundError,
                              { status: 404 });
      eq(errorBody(e).code, 'model_not_found', 'code');
    }],
    ['groq: json_validate_failed is a BadRequestError with failed_generation', async () => {
      await reset();
      await script({ provider: 'groq', mode: 'json_validate_failed', times: 1 });
      const e = await rejects(groq.chat.completions.create(titan.groq), Groq.BadRequestError, { status: 400 });
      eq(errorBody(e).code, 'json_validate_failed', 'code');
      ok(typeof errorBody(e).failed_generation === 'string', 'failed_generation');
    }],

    ['gemini: titan\'s request answers a decision; a thinking model reports its thoughts tokens', async () => {
      await reset();
      const r = await gemini.models.generateContent(geminiParams(titan.models.gemini));
      isDecision(r.text, 'text');
      const u = r.usageMetadata;
      ok(u.thoughtsTokenCount > 0, 'thoughtsTokenCount');
      eq(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount, 'totalTokenCount');
    }],
    ['gemini: a model without thinking reports no thoughts tokens', async () => {
      const r = await gemini.models.generateContent(geminiParams('gemini-2.0-flash'));
      isDecision(r.text, 'text');
      eq(r.usageMetadata.thoughtsTokenCount, undefined, 'thoughtsTokenCount');
    }],
    ['gemini: thinkingBudget 0 on 2.5 flash turns the thoughts off', async () => {
      const r = await gemini.models.generateContent(geminiParams('gemini-2.5-flash', { thinkingConfig: { thinkingBudget: 0 } }));
      eq(r.usageMetadata.thoughtsTokenCount, undefined, 'thoughtsTokenCount');
    }],
    ['gemini: an unknown model is an ApiError 404', async () => {
      await rejects(gemini.models.generateContent(geminiParams('gemini-9-flash')), ApiError, { status: 404 });
    }],
    ['gemini: a SAFETY candidate has no content, a MAX_TOKENS one no parts: the SDK gives no text', async () => {
      await reset();
      await script({ provider: 'gemini', mode: 'safety', times: 1 });
      let r = await gemini.models.generateContent(geminiParams('gemini-2.5-flash'));
      eq(r.candidates[0].finishReason, 'SAFETY', 'finishReason');
      eq(r.candidates[0].content, undefined, 'content');
      eq(r.text, undefined, 'text');
      await script({ provider: 'gemini', mode: 'max_tokens', times: 1 });
      r = await gemini.models.generateContent(geminiParams('gemini-2.5-flash'));
      eq(r.candidates[0].finishReason, 'MAX_TOKENS', 'finishReason');
      eq(r.candidates[0].content.parts, undefined, 'parts');
      eq(r.text, undefined, 'text');
    }],
    ['gemini: a wrong key is an ApiError 400 (API_KEY_INVALID)', async () => {
      const bad = new GoogleGenAI({ apiKey: 'AIza-wrong', httpOptions: { baseUrl: base, apiVersion: 'v1beta' } });
      const e = await rejects(bad.models.generateContent(geminiParams('gemini-2.5-flash')), ApiError, { status: 400 });
      ok(/API_KEY_INVALID|API key not valid/.test(e.message), e.message);
    }],
    ['gemini: 429 RESOURCE_EXHAUSTED is an ApiError 429 carrying RetryInfo', async () => {
      await reset();
      await script({ provider: 'gemini', mode: 'rate_limit', retry_after: '3', times: 1 });
      const e = await rejects(gemini.models.generateContent(geminiParams('gemini-2.5-flash')), ApiError, { status: 429 });
      ok(/RetryInfo/.test(e.message) && /3s/.test(e.message), e.message);
    }],
  ];
}
