import { describe, expect, it } from 'vitest';
import { RouteTable } from './route-table.js';

describe('RouteTable', () => {
  const providers = ['anthropic', 'vllm', 'offline'];

  it('resolves ordered providers per alias, with tenant overrides and model ids containing / and :', () => {
    const table = RouteTable.parse(
      'default=anthropic:claude-sonnet-4-5,vllm:Qwen/Qwen2.5-7B-Instruct; fast=vllm:llama3.1:8b ;acme/default=vllm:Qwen/Qwen2.5-7B-Instruct',
      providers,
    );
    expect(table.resolve('globex', 'default')).toEqual([
      { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      { provider: 'vllm', model: 'Qwen/Qwen2.5-7B-Instruct' },
    ]);
    expect(table.resolve('acme', 'default')).toEqual([
      { provider: 'vllm', model: 'Qwen/Qwen2.5-7B-Instruct' },
    ]);
    expect(table.resolve('acme', 'fast')).toEqual([{ provider: 'vllm', model: 'llama3.1:8b' }]);
    expect(table.resolve('acme', 'huge')).toBeUndefined();
  });

  it.each([
    ['', 'MODEL_ROUTES is empty'],
    ['anthropic:claude', 'has no alias'],
    ['Default=anthropic:x', 'route key "Default" is invalid'],
    ['default=claude', 'route target "claude" for default must look like <provider>:<model>'],
    [
      'default=openai:gpt-4o',
      'names provider "openai", which is not configured (configured: anthropic, vllm, offline)',
    ],
    ['default=anthropic:x;default=vllm:y', 'route default is given twice'],
    ['default=', 'route default lists no provider'],
  ])('rejects %j with a clear message', (spec, message) => {
    expect(() => RouteTable.parse(spec, providers)).toThrow(message);
  });
});
