//! One pipeline-metrics payload (`POST /save_metrics`) decoded with every quirk of FORMATS.md §1:
//! `builds` absent (then `build` is one build named `build-e2e`), nullable job fields, offsets in
//! timestamps, unknown extra fields ignored, `has_restarts` derived from `jobs_failed` when absent.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A decoded, validated payload. Strings borrow from the input line where they can.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline<'a> {
    pub pipeline_id: i64,
    pub project: Cow<'a, str>,
    pub git_ref: Cow<'a, str>,
    /// Microseconds since the epoch, UTC.
    pub created_at: i64,
    pub duration: i64,
    pub duration_e2e: i64,
    pub build: Option<i64>,
    pub has_restarts: bool,
    pub failed_jobs: i64,
    pub project_id: Option<i64>,
    pub jobs: Vec<Job<'a>>,
    pub builds: Vec<(Cow<'a, str>, Option<i64>)>,
    /// `jobs_failed`: failed attempts of jobs, in the order sent.
    pub failed: Vec<FailedJob<'a>>,
}

/// One failed attempt of a job (`jobs_failed`); older senders give only name and duration.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedJob<'a> {
    pub name: Option<Cow<'a, str>>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration: Option<i64>,
}

/// One e2e job of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Job<'a> {
    pub name: Cow<'a, str>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration: Option<i64>,
    pub up: Option<i64>,
    pub e2e: Option<i64>,
    pub pull: Option<i64>,
    pub up_without_pull: Option<i64>,
}

/// The build name a lone `build` total stands for when `builds` is absent.
pub const DEFAULT_BUILD_NAME: &str = "build-e2e";

/// How deep a payload may nest arrays and objects (a real one nests 3 deep). sonic-rs takes
/// about 37 KiB of stack a level in a debug build: 56 levels overflowed a thread's 2 MiB (found
/// by the property test in CI); 16 leave room on any thread, in any build.
pub const MAX_NESTING: usize = 16;

/// Decode one payload, or say why it cannot be.
pub fn decode(bytes: &[u8]) -> Result<Pipeline<'_>, String> {
    // sonic-rs skips an unknown field's value recursively, without a depth limit.
    if !crate::sources::ndjson::nesting_within(bytes, MAX_NESTING) {
        return Err(format!("invalid payload: nested deeper than {MAX_NESTING} levels"));
    }
    // sonic-rs: a SIMD JSON parser, about a tenth faster than serde_json here (bench/run.sh).
    // Its messages end with a snippet of the input; the reason keeps the first line.
    let wire: WirePayload<'_> =
        sonic_rs::from_slice(bytes).map_err(|e| format!("invalid payload: {}", e.to_string().lines().next().unwrap_or_default()))?;
    let created_at = timestamp("created_at", &wire.created_at.0)?;
    let jobs = wire
        .jobs
        .unwrap_or_default()
        .into_iter()
        .map(|j| {
            Ok(Job {
                started_at: j.started_at.map(|t| timestamp("jobs.started_at", &t.0)).transpose()?,
                finished_at: j.finished_at.map(|t| timestamp("jobs.finished_at", &t.0)).transpose()?,
                name: j.name.0,
                duration: j.duration.map(|s| s.0),
                up: j.up.map(|s| s.0),
                e2e: j.e2e.map(|s| s.0),
                pull: j.pull.map(|s| s.0),
                up_without_pull: j.up_without_pull.map(|s| s.0),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let build = wire.build.map(|s| s.0);
    let builds = match wire.builds {
        Some(entries) => entries.into_iter().flat_map(|e| e.0).collect(),
        None => build.map(|b| vec![(Cow::Borrowed(DEFAULT_BUILD_NAME), Some(b))]).unwrap_or_default(),
    };
    let build = match build {
        Some(build) => Some(build),
        None => {
            let seconds: Vec<i64> = builds.iter().filter_map(|(_, s)| *s).collect();
            let sum =
                seconds.iter().try_fold(0i64, |a, s| a.checked_add(*s)).ok_or("invalid payload: builds add up past the 64-bit range")?;
            (!seconds.is_empty()).then_some(sum)
        }
    };
    let failed = wire
        .jobs_failed
        .unwrap_or_default()
        .into_iter()
        .map(|j| {
            Ok(FailedJob {
                started_at: j.started_at.map(|t| timestamp("jobs_failed.started_at", &t.0)).transpose()?,
                finished_at: j.finished_at.map(|t| timestamp("jobs_failed.finished_at", &t.0)).transpose()?,
                name: j.name.map(|n| n.0),
                duration: j.duration.map(|s| s.0),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let failed_jobs = failed.len() as i64;
    Ok(Pipeline {
        pipeline_id: wire.pipeline_id,
        project: wire.project.0,
        git_ref: wire.git_ref.0,
        created_at,
        duration: wire.duration.0,
        duration_e2e: wire.duration_e2e.0,
        build,
        has_restarts: wire.has_restarts.unwrap_or(failed_jobs > 0),
        failed_jobs,
        project_id: wire.project_id,
        jobs,
        builds,
        failed,
    })
}

fn timestamp(field: &str, text: &str) -> Result<i64, String> {
    crate::timestamp::parse_field(field, text)
}

#[derive(Deserialize)]
struct WirePayload<'a> {
    pipeline_id: i64,
    #[serde(borrow)]
    project: Text<'a>,
    #[serde(rename = "ref", borrow)]
    git_ref: Text<'a>,
    #[serde(borrow)]
    created_at: Text<'a>,
    duration: Seconds,
    duration_e2e: Seconds,
    #[serde(default)]
    build: Option<Seconds>,
    #[serde(default, borrow)]
    builds: Option<Vec<BuildEntries<'a>>>,
    #[serde(default, borrow)]
    jobs: Option<Vec<WireJob<'a>>>,
    #[serde(default, borrow)]
    jobs_failed: Option<Vec<WireFailedJob<'a>>>,
    #[serde(default)]
    has_restarts: Option<bool>,
    #[serde(default)]
    project_id: Option<i64>,
}

#[derive(Deserialize)]
struct WireJob<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(default, borrow)]
    started_at: Option<Text<'a>>,
    #[serde(default, borrow)]
    finished_at: Option<Text<'a>>,
    #[serde(default)]
    duration: Option<Seconds>,
    #[serde(default)]
    up: Option<Seconds>,
    #[serde(default)]
    e2e: Option<Seconds>,
    #[serde(default)]
    pull: Option<Seconds>,
    #[serde(default)]
    up_without_pull: Option<Seconds>,
}

#[derive(Deserialize)]
struct WireFailedJob<'a> {
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
    #[serde(default, borrow)]
    started_at: Option<Text<'a>>,
    #[serde(default, borrow)]
    finished_at: Option<Text<'a>>,
    #[serde(default)]
    duration: Option<Seconds>,
}

/// A JSON string, borrowed from the input unless it had escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Whole seconds: an integer, or a float with no fractional part (some senders write `27.0`).
struct Seconds(i64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("whole seconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                // A duration is never negative: a clock that ran backwards, or a wrapped counter.
                if v < 0 {
                    return Err(E::custom(format!("{v} seconds is negative")));
                }
                Ok(Seconds(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                i64::try_from(v).map(Seconds).map_err(|_| E::custom(format!("{v} seconds is out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                if v < 0.0 {
                    return Err(E::custom(format!("{v} seconds is negative")));
                }
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(Seconds(v as i64))
                } else {
                    Err(E::custom(format!("{v} is not whole seconds")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `builds`: one-key objects `{build_name: seconds}` (several keys are taken as several builds).
struct BuildEntries<'a>(Vec<(Cow<'a, str>, Option<i64>)>);

impl<'de: 'a, 'a> Deserialize<'de> for BuildEntries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BuildEntries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object {build_name: seconds}")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(1);
                while let Some((name, seconds)) = map.next_entry::<Text<'de>, Option<Seconds>>()? {
                    entries.push((name.0, seconds.map(|s| s.0)));
                }
                Ok(BuildEntries(entries))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_payload_nested_past_the_limit_is_refused_before_it_overflows_a_threads_stack() {
        // Regression: at 56 levels the decoder overflowed the 2 MiB stack of a debug build's
        // thread and aborted the process; every depth is now an answer, on a 2 MiB thread.
        let base = r#"{"created_at":"2026-10-01T07:47:22Z","duration":1,"duration_e2e":1,"pipeline_id":1,"project":"p","ref":"main"}"#;
        for depth in 1..=80 {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let text = base.replacen('{', &format!("{{\"x\":{}1{},", open.repeat(depth), close.repeat(depth)), 1);
                let answered =
                    std::thread::Builder::new().stack_size(2 << 20).spawn(move || payload_depth_ok(&text)).unwrap().join().unwrap();
                assert_eq!(answered, depth < MAX_NESTING, "depth {depth} {open}");
            }
        }
    }

    fn payload_depth_ok(text: &str) -> bool {
        decode(text.as_bytes()).is_ok()
    }

    use super::*;
    use crate::timestamp::parse_micros;

    const SEED: &str = r#"{"jobs": [{"name": "e2e", "started_at": "2023-06-13T14:12:33.677+07:00",
           "finished_at": "2023-06-13T14:13:01.293+07:00", "duration": 27, "up": 7, "e2e": 5}],
 "builds": [{"build-e2e": 64}], "build": 64,
 "created_at": "2023-06-13T14:11:24.029+07:00", "ref": "master",
 "duration": 97, "duration_e2e": 27, "jobs_failed": [], "has_restarts": false,
 "project": "test/project", "pipeline_id": 1}"#;

    #[test]
    fn the_seed_payload() {
        let p = decode(SEED.as_bytes()).unwrap();
        assert_eq!(p.pipeline_id, 1);
        assert_eq!(p.project, "test/project");
        assert!(matches!(p.project, Cow::Borrowed(_)), "plain strings are borrowed, not copied");
        assert_eq!(p.created_at, parse_micros("2023-06-13T07:11:24.029Z").unwrap());
        assert_eq!(p.builds, vec![(Cow::Borrowed("build-e2e"), Some(64))]);
        assert_eq!(p.build, Some(64));
        assert_eq!(p.jobs.len(), 1);
        assert_eq!(p.jobs[0].up, Some(7));
        assert_eq!(p.jobs[0].pull, None);
        assert!(!p.has_restarts);
    }

    #[test]
    fn builds_absent_means_one_build_e2e_of_build_seconds() {
        let p = decode(
            br#"{"pipeline_id":2,"project":"p","ref":"main","created_at":"2023-06-13T14:11:24Z","duration":10,"duration_e2e":3,"build":7}"#,
        )
        .unwrap();
        assert_eq!(p.builds, vec![(Cow::Borrowed(DEFAULT_BUILD_NAME), Some(7))]);
        assert!(p.jobs.is_empty());
    }

    #[test]
    fn build_defaults_to_the_sum_of_builds() {
        let p = decode(br#"{"pipeline_id":3,"project":"p","ref":"main","created_at":"2023-06-13T14:11:24Z","duration":10,"duration_e2e":3,"builds":[{"a":4},{"b":5}]}"#).unwrap();
        assert_eq!(p.build, Some(9));
        assert_eq!(p.builds.len(), 2);
    }

    #[test]
    fn null_job_fields_unknown_fields_and_newer_senders() {
        let p = decode(
            br#"{"pipeline_id":4,"project":"p","ref":"x","created_at":"2023-06-13T14:11:24.000-03:00","duration":10,"duration_e2e":3,
                 "jobs":[{"name":"e","started_at":null,"finished_at":null,"duration":null,"up":null,"e2e":2,"pull":1,"up_without_pull":null,"extra":{"a":[1]}}],
                 "jobs_failed":[{"name":"e","duration":3,"started_at":"2023-06-13T14:11:24Z","finished_at":"2023-06-13T14:11:27Z"}],
                 "project_id":77,"whatever":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(p.jobs[0].started_at, None);
        assert_eq!(p.jobs[0].duration, None);
        assert_eq!(p.jobs[0].pull, Some(1));
        assert_eq!(p.project_id, Some(77));
        assert_eq!(p.failed_jobs, 1);
        assert!(p.has_restarts, "has_restarts follows jobs_failed when the sender leaves it out");
        let failed = &p.failed[0];
        assert_eq!((failed.name.as_deref(), failed.duration), (Some("e"), Some(3)));
        assert_eq!(failed.started_at, Some(parse_micros("2023-06-13T14:11:24Z").unwrap()));
        assert_eq!(failed.finished_at, Some(parse_micros("2023-06-13T14:11:27Z").unwrap()));
    }

    #[test]
    fn failed_jobs_are_kept_by_name_older_senders_without_times() {
        let p = decode(
            br#"{"pipeline_id":7,"project":"p","ref":"x","created_at":"2023-06-13T14:11:24Z","duration":1,"duration_e2e":1,
                 "jobs_failed":[{"name":"e2e-0","duration":12},{"duration":4},{"name":"e2e-0","duration":null,"extra":[1]}]}"#,
        )
        .unwrap();
        let names: Vec<Option<&str>> = p.failed.iter().map(|f| f.name.as_deref()).collect();
        assert_eq!(names, vec![Some("e2e-0"), None, Some("e2e-0")]);
        assert_eq!(p.failed.iter().map(|f| f.duration).collect::<Vec<_>>(), vec![Some(12), Some(4), None]);
        assert!(p.failed.iter().all(|f| f.started_at.is_none() && f.finished_at.is_none()));
        assert_eq!(p.failed_jobs, 3);
    }

    #[test]
    fn a_failed_job_that_is_no_object_or_has_no_time_is_a_reject_with_its_reason() {
        let base =
            r#"{"pipeline_id":8,"project":"p","ref":"x","created_at":"2023-06-13T14:11:24Z","duration":1,"duration_e2e":1,"jobs_failed":"#;
        let bad_time = decode(format!(r#"{base}[{{"name":"e","started_at":"soon"}}]}}"#).as_bytes()).unwrap_err();
        assert!(bad_time.contains("jobs_failed.started_at"), "{bad_time}");
        assert!(decode(format!(r#"{base}["e2e-0"]}}"#).as_bytes()).unwrap_err().starts_with("invalid payload"));
        assert!(decode(format!(r#"{base}[{{"name":"e","duration":-3}}]}}"#).as_bytes()).unwrap_err().contains("negative"));
    }

    #[test]
    fn whole_float_seconds_pass_fractional_do_not() {
        let ok = br#"{"pipeline_id":5,"project":"p","ref":"x","created_at":"2023-06-13T14:11:24Z","duration":10.0,"duration_e2e":3}"#;
        assert_eq!(decode(ok).unwrap().duration, 10);
        let bad = br#"{"pipeline_id":5,"project":"p","ref":"x","created_at":"2023-06-13T14:11:24Z","duration":10.5,"duration_e2e":3}"#;
        assert!(decode(bad).unwrap_err().contains("not whole seconds"));
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let p = decode(
            br#"{"pipeline_id":6,"project":"g\/p \u00e9","ref":"x","created_at":"2023-06-13T14:11:24Z","duration":1,"duration_e2e":1}"#,
        )
        .unwrap();
        assert_eq!(p.project, "g/p é");
    }

    #[test]
    fn reasons_name_the_problem() {
        let missing =
            decode(br#"{"project":"p","ref":"x","created_at":"2023-06-13T14:11:24Z","duration":1,"duration_e2e":1}"#).unwrap_err();
        assert!(missing.contains("pipeline_id"), "{missing}");
        let bad_time =
            decode(br#"{"pipeline_id":1,"project":"p","ref":"x","created_at":"yesterday","duration":1,"duration_e2e":1}"#).unwrap_err();
        assert!(bad_time.contains("created_at"), "{bad_time}");
        assert!(decode(b"{not json").unwrap_err().starts_with("invalid payload"));
        assert!(decode(b"[1,2]").is_err());
    }
}
