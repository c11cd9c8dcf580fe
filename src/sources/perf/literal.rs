//! A small strict parser for the Python literals PerfCI sends as `unit_test_data`: a list of
//! tuples of strings and numbers, as Python 2 or 3 `repr` writes them (`u'…'`, `123L`). Never
//! evaluated; anything else is an error with its byte offset.

/// One value inside a tuple.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
}

impl Value {
    /// The value as a float, for integers and floats.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as an integer: integers, and floats with no fractional part.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }
}

/// Parse `[(…), (…), …]` into its tuples.
pub fn parse_tuple_list(text: &str) -> Result<Vec<Vec<Value>>, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    p.ws();
    p.expect(b'[')?;
    let tuples = p.sequence(b']', |p| {
        p.expect(b'(')?;
        p.sequence(b')', Parser::value)
    })?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.error("end of the literal"));
    }
    Ok(tuples)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn error(&self, expected: &str) -> String {
        match self.peek() {
            Some(c) => format!("expected {expected} at byte {}, found {:?}", self.i, c as char),
            None => format!("expected {expected} at byte {}, found the end", self.i),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(&format!("{:?}", c as char)))
        }
    }

    /// Items separated by commas up to `close` (a trailing comma allowed), the opener consumed.
    fn sequence<T>(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Result<T, String>) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(out);
            }
            out.push(item(self)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return Err(self.error(&format!("',' or {:?}", close as char))),
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        let start = self.i;
        match self.peek() {
            Some(b'\'' | b'"') => self.string(false),
            Some(b'u' | b'U' | b'r' | b'R' | b'b' | b'B') => {
                let mut raw = false;
                while let Some(c @ (b'u' | b'U' | b'r' | b'R' | b'b' | b'B')) = self.peek() {
                    raw |= matches!(c, b'r' | b'R');
                    self.i += 1;
                    if self.i - start > 2 {
                        break;
                    }
                }
                if matches!(self.peek(), Some(b'\'' | b'"')) {
                    self.string(raw)
                } else {
                    self.i = start;
                    self.word()
                }
            }
            Some(b'-' | b'+' | b'0'..=b'9' | b'.') => self.number(),
            _ => self.word(),
        }
    }

    fn word(&mut self) -> Result<Value, String> {
        for (w, v) in [("None", Value::None), ("True", Value::Bool(true)), ("False", Value::Bool(false))] {
            if self.s[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                return Ok(v);
            }
        }
        Err(self.error("a string, a number, None, True or False"))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let from = p.i;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - from
        };
        let mut n = digits(self);
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            float = true;
            n += digits(self);
        }
        if n == 0 {
            self.i = start;
            return Err(self.error("a number"));
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("an exponent"));
            }
            float = true;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII");
        if float {
            return text.parse().map(Value::Float).map_err(|e| format!("bad number {text:?} at byte {start}: {e}"));
        }
        // Python 2 long integers: 123L.
        if matches!(self.peek(), Some(b'l' | b'L')) {
            self.i += 1;
        }
        text.parse().map(Value::Int).map_err(|e| format!("bad integer {text:?} at byte {start}: {e}"))
    }

    fn string(&mut self, raw: bool) -> Result<Value, String> {
        let quote = self.peek().expect("a quote");
        let start = self.i;
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else { return Err(format!("unterminated string starting at byte {start}")) };
            self.i += 1;
            match c {
                c if c == quote => break,
                b'\n' => return Err(format!("line break inside the string starting at byte {start}")),
                b'\\' if raw => {
                    out.push(b'\\');
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                b'\\' => self.escape(&mut out)?,
                c => out.push(c),
            }
        }
        String::from_utf8(out).map(Value::Str).map_err(|_| format!("string starting at byte {start} is not UTF-8"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let at = self.i - 1;
        let Some(c) = self.peek() else { return Err(format!("unterminated escape at byte {at}")) };
        self.i += 1;
        let simple = match c {
            b'\\' => Some(b'\\'),
            b'\'' => Some(b'\''),
            b'"' => Some(b'"'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'0' => Some(0),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            return Ok(());
        }
        let width = match c {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            // Python keeps an unknown escape as written.
            _ => {
                out.extend_from_slice(&[b'\\', c]);
                return Ok(());
            }
        };
        let hex = self.s.get(self.i..self.i + width).and_then(|h| std::str::from_utf8(h).ok());
        let code = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
        let Some(ch) = code else { return Err(format!("bad \\{} escape at byte {at}", c as char)) };
        self.i += width;
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Value::*;

    #[test]
    fn resource_and_trace_tuples() {
        assert_eq!(
            parse_tuple_list("[('test_add', 0.0123, 45678912), ('test_sub', 0.002, 45680000)]").unwrap(),
            vec![vec![Str("test_add".into()), Float(0.0123), Int(45678912)], vec![Str("test_sub".into()), Float(0.002), Int(45680000)]]
        );
        assert_eq!(
            parse_tuple_list("[('test_add', 12, 80, 3, 1, 0)]").unwrap(),
            vec![vec![Str("test_add".into()), Int(12), Int(80), Int(3), Int(1), Int(0)]]
        );
        assert_eq!(parse_tuple_list(" [ ] ").unwrap(), Vec::<Vec<Value>>::new());
    }

    #[test]
    fn python2_spellings() {
        assert_eq!(
            parse_tuple_list("[(u'test_x', 1.5e-3, 123L), (U\"t\\u00e9st\", -2, 7l,)]").unwrap(),
            vec![vec![Str("test_x".into()), Float(0.0015), Int(123)], vec![Str("tést".into()), Int(-2), Int(7)]]
        );
        assert_eq!(
            parse_tuple_list(r"[('it\'s', 'a\\b', 'tab\there', r'\d', None, True)]").unwrap()[0],
            vec![Str("it's".into()), Str("a\\b".into()), Str("tab\there".into()), Str("\\d".into()), None, Bool(true)]
        );
        assert_eq!(parse_tuple_list("[('a',)]").unwrap(), vec![vec![Str("a".into())]]);
    }

    #[test]
    fn malformed_literals_say_where() {
        for (text, expected) in [
            ("", "expected '['"),
            ("[('a', 1)", "found the end"),
            ("[('a' 1)]", "expected ',' or ')' at byte 6"),
            ("[('a', 1)] x", "end of the literal"),
            ("[('unterminated, 1)]", "unterminated string"),
            ("[(__import__('os'),)]", "a string, a number"),
            ("[('a', 1.2.3)]", "expected ',' or ')'"),
            ("[('a', 99999999999999999999)]", "bad integer"),
            ("[('a', '\\x4')]", "bad \\x escape"),
            ("[['a', 1]]", "expected '('"),
            ("[('a', -)]", "a number"),
        ] {
            let err = parse_tuple_list(text).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn numbers_as_needed() {
        assert_eq!(Int(3).as_f64(), Some(3.0));
        assert_eq!(Float(45678912.0).as_i64(), Some(45678912));
        assert_eq!(Float(0.5).as_i64(), Option::None);
        assert_eq!(Str("1".into()).as_f64(), Option::None);
    }
}
