/** True when `e` (or what drizzle wrapped) is PostgreSQL's unique_violation, on either driver. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const err = cur as { code?: string; constraint?: string; constraint_name?: string; message?: string };
    if (err.code === '23505') {
      if (!constraint) return true;
      const name = err.constraint ?? err.constraint_name ?? '';
      return name === constraint || (err.message ?? '').includes(constraint);
    }
  }
  return false;
}
