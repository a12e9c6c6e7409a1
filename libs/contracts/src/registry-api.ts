import { z } from 'zod';
import { ToolDefinition } from './tool-definition.js';

/**
 * The registry's HTTP contract as tool consumers use it: a consumer registers (upserts) each
 * of its tools by name and version at start-up. New versions arrive as drafts for approval.
 */
export const RegistryPaths = {
  /** PUT: create or replace this version's definition (a draft until approved). */
  toolVersion: (name: string, version: string) =>
    `/v1/tools/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
} as const;

/** Body of PUT /v1/tools/{name}/versions/{version}. */
export const RegisterToolRequest = ToolDefinition.omit({ status: true }).describe(
  'A tool version as its consumer declares it',
);
export type RegisterToolRequest = z.infer<typeof RegisterToolRequest>;

/** Answer to a registration. */
export const RegisterToolResponse = z.object({
  name: z.string(),
  version: z.string(),
  status: z.enum(['draft', 'approved', 'deprecated', 'retired']),
  created: z.boolean().describe('False when an identical version already existed'),
});
export type RegisterToolResponse = z.infer<typeof RegisterToolResponse>;
