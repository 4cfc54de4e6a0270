import { Type } from 'typebox'
import { platformErrors } from '../findings/findings.schemas.js'
import type { Module } from '../module.js'

const TAG = 'Webhooks'
const Secret = Type.Object({
  data: Type.Object({
    secret: Type.String({ description: 'Standard Webhooks secret (`whsec_` + base64). Verify the `webhook-signature` header of our deliveries with it.' }),
    algorithm: Type.Literal('v1 (HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}")'),
  }),
})

/** The tenant's signing secret for outgoing webhooks (job notifications), for admins. */
export const webhooksModule: Module = {
  name: 'webhooks',
  async register(app) {
    const { webhooks, audit } = app.platform
    const algorithm = 'v1 (HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}")' as const
    app.get('/api/v1/webhooks/signing-secret', {
      config: { auth: { permission: 'tenant:manage' } },
      schema: {
        summary: 'Get the webhook signing secret', tags: [TAG],
        description: 'The secret every outgoing webhook of this tenant is signed with (Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature). Created on first use.',
        response: { 200: Secret, ...platformErrors },
      },
    }, async (request) => {
      const p = request.principal!
      await audit.record({ tenantId: p.tenantId, action: 'webhooks.secret_read', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'webhook_secret' })
      return { data: { secret: await webhooks.signingSecret(p.tenantId), algorithm } }
    })
    app.post('/api/v1/webhooks/signing-secret/rotate', {
      config: { auth: { permission: 'tenant:manage' } },
      schema: {
        summary: 'Rotate the webhook signing secret', tags: [TAG],
        description: 'Replaces the secret; deliveries from now on are signed with the new one.',
        response: { 200: Secret, ...platformErrors },
      },
    }, async (request) => {
      const p = request.principal!
      const secret = await webhooks.rotate(p.tenantId)
      await audit.record({ tenantId: p.tenantId, action: 'webhooks.secret_rotated', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'webhook_secret' })
      return { data: { secret, algorithm } }
    })
  },
}
