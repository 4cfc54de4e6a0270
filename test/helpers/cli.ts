import { spawn } from 'node:child_process'

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** Runs the CLI from source with a minimal environment on an embedded database in `dataDir`. */
export function runCli(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', VV_DATA_DIR: dataDir, VV_LOG_LEVEL: 'warn', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d })
    child.stderr.on('data', (d: Buffer) => { stderr += d })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
