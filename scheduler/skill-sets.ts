import type { SqlDriver } from './storage-port.ts';

/** The id of the skill set holding exactly `skills` (already normalized), created if new. */
export function skillSetId(driver: SqlDriver, skills: readonly string[]): number {
  if (skills.length === 0) return 0;
  const key = skills.join('\n');
  const existing = driver.get<{ id: number }>('SELECT id FROM skill_sets WHERE skills = $key', {
    key,
  });
  if (existing) return existing.id;
  const created = driver.get<{ id: number }>(
    'INSERT INTO skill_sets (skills, size) VALUES ($key, $size) RETURNING id',
    { key, size: skills.length },
  )!;
  for (const skill of skills) {
    driver.run('INSERT INTO skill_set_members (skill, set_id) VALUES ($skill, $set)', {
      skill,
      set: created.id,
    });
  }
  return created.id;
}

/**
 * The skill sets a worker holds completely, always including the empty set. Reads only the sets
 * that share a skill with the worker, through the (skill, set_id) key.
 */
export function skillSetsHeldBy(driver: SqlDriver, workerId: string): number[] {
  const rows = driver.all<{ set_id: number }>(
    `SELECT m.set_id FROM worker_skills w
       JOIN skill_set_members m ON m.skill = w.skill
       JOIN skill_sets s ON s.id = m.set_id
      WHERE w.worker_id = $worker
      GROUP BY m.set_id, s.size
     HAVING COUNT(*) = s.size`,
    { worker: workerId },
  );
  return [0, ...rows.map((r) => r.set_id)];
}
