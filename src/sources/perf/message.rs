//! PerfCI messages (FORMATS.md §4): a resource or a trace message for a batch of tests of one
//! commit, numbers sent as strings, the tests in `unit_test_data` as a Python literal.

use serde_json::{Map, Value as Json};

use super::literal::{parse_tuple_list, Value};

/// One test's figures from one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// `(test_name, execution_time_seconds, memory_rss_bytes)`
    Resource { test: String, execution_time_s: f64, memory_rss_bytes: i64 },
    /// `(test_name, function_calls, statements_executed, iterations, condition_encoding, result)`
    Trace { test: String, function_calls: i64, statements_executed: i64, iterations: i64, condition_encoding: i64, result: i64 },
}

impl Sample {
    pub fn test(&self) -> &str {
        match self {
            Sample::Resource { test, .. } | Sample::Trace { test, .. } => test,
        }
    }
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub git_commit: String,
    /// The sender's `_key` (a counter per sending process, not unique).
    pub sender_key: Option<i64>,
    pub samples: Vec<Sample>,
}

/// Decode one message; the reason when it cannot be.
pub fn decode(text: &[u8]) -> Result<Message, String> {
    let json: Json = serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Json::Object(m) = json else { return Err("not a JSON object".into()) };
    let git_commit = match m.get("git_commit") {
        Some(Json::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err("missing git_commit".into()),
    };
    let is_trace = m.contains_key("total_function_calls") || m.contains_key("total_no_statements_executed");
    let is_resource = m.contains_key("avg_mem") || m.contains_key("avg_time");
    let literal = match m.get("unit_test_data") {
        Some(Json::String(s)) => s,
        Some(_) => return Err("unit_test_data is not a string".into()),
        None => return Err("missing unit_test_data".into()),
    };
    let tuples = parse_tuple_list(literal).map_err(|e| format!("unit_test_data: {e}"))?;
    let samples = match (is_resource, is_trace) {
        (true, false) => tuples.iter().enumerate().map(|(i, t)| resource(t).ok_or_else(|| bad_tuple(i, t, "resource"))).collect(),
        (false, true) => tuples.iter().enumerate().map(|(i, t)| trace(t).ok_or_else(|| bad_tuple(i, t, "trace"))).collect(),
        _ => Err("neither a resource message (avg_mem, avg_time) nor a trace message (total_function_calls, …)".to_string()),
    }?;
    Ok(Message { git_commit, sender_key: number(&m, "_key"), samples })
}

fn bad_tuple(index: usize, tuple: &[Value], kind: &str) -> String {
    let expected =
        if kind == "resource" { "(name, seconds, bytes)" } else { "(name, calls, statements, iterations, condition_encoding, result)" };
    format!("unit_test_data: {kind} tuple {} is {tuple:?}, expected {expected}", index + 1)
}

/// A resource tuple; a time that is not a finite, non-negative number (`1e400` parses as
/// infinity) or a negative memory size is no measurement.
fn resource(t: &[Value]) -> Option<Sample> {
    match t {
        [Value::Str(test), time, memory] => {
            let execution_time_s = time.as_f64().filter(|s| s.is_finite() && *s >= 0.0)?;
            let memory_rss_bytes = memory.as_i64().filter(|b| *b >= 0)?;
            Some(Sample::Resource { test: test.clone(), execution_time_s, memory_rss_bytes })
        }
        _ => None,
    }
}

fn trace(t: &[Value]) -> Option<Sample> {
    match t {
        [Value::Str(test), calls, statements, iterations, encoding, result] => Some(Sample::Trace {
            test: test.clone(),
            function_calls: calls.as_i64()?,
            statements_executed: statements.as_i64()?,
            iterations: iterations.as_i64()?,
            condition_encoding: encoding.as_i64()?,
            result: result.as_i64()?,
        }),
        _ => None,
    }
}

/// A number sent as a string (or as a number).
fn number(m: &Map<String, Json>, key: &str) -> Option<i64> {
    match m.get(key)? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infinite_nan_and_negative_figures_are_no_measurement() {
        for tuple in ["('t', 1e400, 5)", "('t', -0.5, 5)", "('t', 0.5, -5)"] {
            let text = format!(r#"{{"git_commit": "1a2b3c4d", "avg_time": "1", "unit_test_data": "[{tuple}]"}}"#);
            assert!(decode(text.as_bytes()).unwrap_err().contains("resource tuple 1"), "{tuple}");
        }
    }

    #[test]
    fn resource_message_with_numbers_as_strings() {
        let m = decode(
            br#"{"_key": 3, "git_commit": "1a2b3c4d", "avg_mem": "48213.12", "avg_time": "0.01234",
            "unit_test_data": "[('test_add', 0.0123, 45678912), (u'test_sub', 0.002, 45680000L)]"}"#,
        )
        .unwrap();
        assert_eq!(m.git_commit, "1a2b3c4d");
        assert_eq!(m.sender_key, Some(3));
        assert_eq!(m.samples[1], Sample::Resource { test: "test_sub".into(), execution_time_s: 0.002, memory_rss_bytes: 45680000 });
    }

    #[test]
    fn trace_message() {
        let m = decode(
            br#"{"_key": "7", "git_commit": "1a2b3c4d", "total_function_calls": "120", "total_no_statements_executed": "900",
            "conditional_encode_value": "4", "total_no_iterations": "33", "unit_test_data": "[('test_add', 12, 80, 3, 1, 0)]"}"#,
        )
        .unwrap();
        assert_eq!(m.sender_key, Some(7));
        assert_eq!(
            m.samples,
            vec![Sample::Trace {
                test: "test_add".into(),
                function_calls: 12,
                statements_executed: 80,
                iterations: 3,
                condition_encoding: 1,
                result: 0
            }]
        );
    }

    #[test]
    fn bad_messages_say_why() {
        for (text, reason) in [
            (r#"{"git_commit": "a", "avg_mem": "1", "unit_test_data": "[('t', 1)]"}"#, "resource tuple 1"),
            (r#"{"git_commit": "a", "total_function_calls": "1", "unit_test_data": "[('t', 1, 2, 3, 4, 'x')]"}"#, "trace tuple 1"),
            (r#"{"git_commit": "a", "avg_mem": "1", "unit_test_data": "[('t', 1, 2)"}"#, "unit_test_data: expected"),
            (r#"{"git_commit": "a", "unit_test_data": "[]"}"#, "neither"),
            (r#"{"avg_mem": "1", "unit_test_data": "[]"}"#, "missing git_commit"),
            (r#"{"git_commit": "a", "avg_mem": "1"}"#, "missing unit_test_data"),
            (r#"[1]"#, "not a JSON object"),
            (r#"{"git_commit""#, "invalid JSON"),
        ] {
            let err = decode(text.as_bytes()).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}
