/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: readonly Instruction[];
}

/**
 * A small Dockerfile reader for static checks: splits into stages at FROM,
 * joins `\` continuations, drops comments and parser directives.
 * https://docs.docker.com/reference/dockerfile/
 */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  if (pending !== '') logical.push(pending.trim());

  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    const keyword = (match?.[1] ?? '').toUpperCase();
    const args = match?.[2] ?? '';
    if (keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      stages.push({ from: image, ...(as?.toUpperCase() === 'AS' && name !== undefined ? { name } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`instruction before FROM: ${line}`);
      stage.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The JSON (exec) form of CMD/ENTRYPOINT, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
