import { sql, type Insertable, type Selectable } from 'kysely'
import type { Database } from '../../platform/db/database.js'
import type { PromptAnalysesTable, PromptRulesTable } from '../../platform/db/schema.js'

export type PromptRuleRow = Selectable<PromptRulesTable>
export type PromptAnalysisRow = Selectable<PromptAnalysesTable>

export interface ListRulesOptions {
  action?: 'detect' | 'allow' | undefined
  category?: string | undefined
  enabled?: boolean | undefined
  q?: string | undefined
  sort: 'id' | '-id' | 'updated_at' | '-updated_at'
  limit: number
  offset: number
}

export interface ListAnalysesOptions {
  isThreat?: boolean | undefined
  threatType?: string | undefined
  ruleId?: string | undefined
  tier?: string | undefined
  minRisk?: number | undefined
  since?: Date | undefined
  until?: Date | undefined
  sort: '-created_at' | 'created_at' | '-risk_score' | 'risk_score'
  limit: number
  offset: number
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)

export function promptsRepository(db: Database) {
  return {
    async listRules(tenantId: string, o: ListRulesOptions): Promise<{ total: number; rows: PromptRuleRow[] }> {
      let q = db.selectFrom('prompt_rules').where('tenant_id', '=', tenantId)
      if (o.action) q = q.where('action', '=', o.action)
      if (o.enabled !== undefined) q = q.where('enabled', '=', o.enabled)
      if (o.category) q = q.where(sql<string>`definition->>'category'`, '=', o.category)
      if (o.q) {
        const like = `%${escapeLike(o.q.toLowerCase())}%`
        q = q.where((eb) => eb.or([
          eb(sql<string>`lower(rule_id)`, 'like', like),
          eb(sql<string>`lower(coalesce(definition->>'name', ''))`, 'like', like),
          eb(sql<string>`lower(coalesce(definition->>'description', ''))`, 'like', like),
        ]))
      }
      const desc = o.sort.startsWith('-')
      const col = o.sort.replace('-', '') === 'id' ? 'rule_id' : 'updated_at'
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy(col, desc ? 'desc' : 'asc').orderBy('id').limit(o.limit).offset(o.offset).execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ])
      return { total: Number(count.n), rows }
    },

    /** Every enabled rule and allowlist entry of a tenant (what its enterprise engine runs). */
    async enabledRules(tenantId: string): Promise<PromptRuleRow[]> {
      return db.selectFrom('prompt_rules').selectAll().where('tenant_id', '=', tenantId).where('enabled', '=', true).orderBy('rule_id').execute()
    },

    async getRule(tenantId: string, ruleId: string): Promise<PromptRuleRow | undefined> {
      return db.selectFrom('prompt_rules').selectAll().where('tenant_id', '=', tenantId).where('rule_id', '=', ruleId).executeTakeFirst()
    },

    /** The ids among `ruleIds` that the tenant already has. */
    async existingRuleIds(tenantId: string, ruleIds: string[]): Promise<Set<string>> {
      if (ruleIds.length === 0) return new Set()
      const rows = await db.selectFrom('prompt_rules').select('rule_id').where('tenant_id', '=', tenantId).where('rule_id', 'in', ruleIds).execute()
      return new Set(rows.map((r) => r.rule_id))
    },

    /**
     * Inserts rules in one statement; an existing (tenant, rule_id) is overwritten when `replace`, left alone
     * otherwise. Returns the rows written, each marked created (inserted) or not (updated).
     */
    async upsertRules(rows: Insertable<PromptRulesTable>[], replace: boolean): Promise<Array<{ row: PromptRuleRow; created: boolean }>> {
      if (rows.length === 0) return []
      const q = db.insertInto('prompt_rules').values(rows)
      const written = await (replace
        ? q.onConflict((oc) => oc.columns(['tenant_id', 'rule_id']).doUpdateSet((eb) => ({
          action: eb.ref('excluded.action'), enabled: eb.ref('excluded.enabled'), definition: eb.ref('excluded.definition'), updated_at: new Date(),
        })))
        : q.onConflict((oc) => oc.columns(['tenant_id', 'rule_id']).doNothing())
      ).returning(sql<boolean>`(xmax = 0)`.as('inserted')).returningAll().execute()
      return written.map((r) => {
        const { inserted, ...row } = r as PromptRuleRow & { inserted: boolean }
        return { row, created: inserted }
      })
    },

    async updateRule(tenantId: string, ruleId: string, patch: { action: 'detect' | 'allow'; enabled: boolean; definition: string }): Promise<PromptRuleRow | undefined> {
      return db.updateTable('prompt_rules').set({ ...patch, updated_at: new Date() })
        .where('tenant_id', '=', tenantId).where('rule_id', '=', ruleId).returningAll().executeTakeFirst()
    },

    async deleteRule(tenantId: string, ruleId: string): Promise<boolean> {
      const r = await db.deleteFrom('prompt_rules').where('tenant_id', '=', tenantId).where('rule_id', '=', ruleId).executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    },

    async insertAnalyses(rows: Insertable<PromptAnalysesTable>[]): Promise<void> {
      if (rows.length === 0) return
      await db.insertInto('prompt_analyses').values(rows).execute()
    },

    async listAnalyses(tenantId: string, o: ListAnalysesOptions): Promise<{ total: number; rows: PromptAnalysisRow[] }> {
      let q = db.selectFrom('prompt_analyses').where('tenant_id', '=', tenantId)
      if (o.isThreat !== undefined) q = q.where('is_threat', '=', o.isThreat)
      if (o.threatType) q = q.where(sql<boolean>`${o.threatType} = any(threat_types)`)
      if (o.ruleId) q = q.where(sql<boolean>`${o.ruleId} = any(rule_ids)`)
      if (o.tier) q = q.where('tier', '=', o.tier)
      if (o.minRisk !== undefined) q = q.where('risk_score', '>=', o.minRisk)
      if (o.since) q = q.where('created_at', '>=', o.since)
      if (o.until) q = q.where('created_at', '<', o.until)
      const desc = o.sort.startsWith('-')
      const col = o.sort.replace('-', '') as 'created_at' | 'risk_score'
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy(col, desc ? 'desc' : 'asc').orderBy('id', desc ? 'desc' : 'asc').limit(o.limit).offset(o.offset).execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ])
      return { total: Number(count.n), rows }
    },

    async purgeAnalyses(before: Date): Promise<number> {
      const r = await db.deleteFrom('prompt_analyses').where('created_at', '<', before).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
export type PromptsRepository = ReturnType<typeof promptsRepository>
