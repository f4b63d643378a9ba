/**
 * The user a request acts on, for audit rows: the `:id` of the admin user routes
 * (`/admin/users/:id/...`). Other routes' ids name other objects and go into metadata instead.
 */
export function targetUserIdOf(req: { url?: string; params?: Record<string, string> }): number | null {
  const id = Number(req.params?.id);
  return Number.isInteger(id) && id > 0 && (req.url ?? '').startsWith('/admin/users/') ? id : null;
}
