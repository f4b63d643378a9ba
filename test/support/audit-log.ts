/** The fields of an audit log row, in the contract's order (GET /admin/logs rows and the CSV header). */
export const AUDIT_LOG_KEYS = [
  'id',
  'created_at',
  'event_type',
  'action',
  'success',
  'status_code',
  'message',
  'http_method',
  'path',
  'ip_address',
  'user_agent',
  'actor_user_id',
  'actor_username',
  'target_user_id',
  'metadata_json',
] as const;
