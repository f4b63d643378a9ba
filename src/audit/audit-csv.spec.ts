import { AUDIT_CSV_COLUMNS, AUDIT_CSV_HEADER, auditCsvLine, csvCell, csvText } from './audit-csv';
import type { AuditLogDto } from './dto/log-query.dto';

describe('audit CSV', () => {
  it('defuses formula starts with a leading quote', () => {
    for (const s of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '\nx']) {
      expect(csvText(s).replace(/^"|"$/g, '').startsWith("'")).toBe(true);
    }
    expect(csvText('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvText('-2+3')).toBe("'-2+3");
  });

  it('quotes commas, quotes, CR and LF with doubled quotes (RFC 4180) and leaves plain text alone', () => {
    expect(csvText('a,b')).toBe('"a,b"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText('a\nb')).toBe('"a\nb"');
    expect(csvText('a\rb')).toBe('"a\rb"');
    expect(csvText('plain text')).toBe('plain text');
    expect(csvText('')).toBe('');
  });

  it('writes numbers and booleans as they are (a negative id is a number, not a formula), null as empty', () => {
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(401)).toBe('401');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(false)).toBe('false');
    expect(csvCell(null)).toBe('');
    expect(csvCell('-5')).toBe("'-5");
  });

  it('has the JSON row fields as header and one CRLF-terminated record per row', () => {
    const sut: AuditLogDto = {
      id: 7,
      created_at: '2024-01-02T03:04:05.000Z',
      event_type: 'LOGIN_FAILURE',
      action: 'POST /login',
      success: false,
      status_code: 401,
      message: 'Wrong user name or password.',
      http_method: 'POST',
      path: '/login',
      ip_address: '10.0.0.1',
      user_agent: '=cmd|"/c calc"!A1',
      actor_user_id: null,
      actor_username: 'bob',
      target_user_id: null,
      metadata_json: '{"reason":"UNKNOWN_USER","n":-1}',
    };
    expect(AUDIT_CSV_HEADER).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
    expect(Object.keys(sut)).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(auditCsvLine(sut)).toBe(
      '7,2024-01-02T03:04:05.000Z,LOGIN_FAILURE,POST /login,false,401,Wrong user name or password.,POST,/login,' +
        '10.0.0.1,"\'=cmd|""/c calc""!A1",,bob,,"{""reason"":""UNKNOWN_USER"",""n"":-1}"\r\n',
    );
  });
});
