//! An S3-compatible server in the test process (s3s over a temp dir), so the S3 code path runs
//! over real HTTP with nothing to install.

use std::net::SocketAddr;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// s3s-fs checks `If-None-Match`/`If-Match` and then writes, not at once: two conditional puts
/// of one key at the same moment could both succeed, which S3 never lets happen. This wrapper
/// makes each conditional put one step, as S3 does, so that concurrent jobs are tested against
/// the guarantee they rely on.
struct AtomicConditionalPuts {
    fs: s3s_fs::FileSystem,
    conditional: tokio::sync::Mutex<()>,
}

/// The S3 operations, each passed to s3s-fs but a conditional put, which waits for any other.
macro_rules! atomic_conditional_puts {
    ($($method:ident($input:ident, $output:ident)),* $(,)?) => {
        #[async_trait::async_trait]
        impl s3s::S3 for AtomicConditionalPuts {
            async fn put_object(
                &self,
                req: s3s::S3Request<s3s::dto::PutObjectInput>,
            ) -> s3s::S3Result<s3s::S3Response<s3s::dto::PutObjectOutput>> {
                if req.input.if_none_match.is_some() || req.input.if_match.is_some() {
                    let _one_at_a_time = self.conditional.lock().await;
                    return self.fs.put_object(req).await;
                }
                self.fs.put_object(req).await
            }

            $(async fn $method(&self, req: s3s::S3Request<s3s::dto::$input>) -> s3s::S3Result<s3s::S3Response<s3s::dto::$output>> {
                self.fs.$method(req).await
            })*
        }
    };
}

atomic_conditional_puts!(
    create_bucket(CreateBucketInput, CreateBucketOutput),
    copy_object(CopyObjectInput, CopyObjectOutput),
    delete_bucket(DeleteBucketInput, DeleteBucketOutput),
    delete_object(DeleteObjectInput, DeleteObjectOutput),
    delete_objects(DeleteObjectsInput, DeleteObjectsOutput),
    get_bucket_location(GetBucketLocationInput, GetBucketLocationOutput),
    get_object(GetObjectInput, GetObjectOutput),
    head_bucket(HeadBucketInput, HeadBucketOutput),
    head_object(HeadObjectInput, HeadObjectOutput),
    list_buckets(ListBucketsInput, ListBucketsOutput),
    list_objects(ListObjectsInput, ListObjectsOutput),
    list_objects_v2(ListObjectsV2Input, ListObjectsV2Output),
    create_multipart_upload(CreateMultipartUploadInput, CreateMultipartUploadOutput),
    upload_part(UploadPartInput, UploadPartOutput),
    upload_part_copy(UploadPartCopyInput, UploadPartCopyOutput),
    list_parts(ListPartsInput, ListPartsOutput),
    complete_multipart_upload(CompleteMultipartUploadInput, CompleteMultipartUploadOutput),
    abort_multipart_upload(AbortMultipartUploadInput, AbortMultipartUploadOutput),
);

pub const ACCESS_KEY: &str = "pipelake-test";
pub const SECRET_KEY: &str = "pipelake-test-secret";

/// A running server; it stops with the test process.
pub struct S3Server {
    pub addr: SocketAddr,
    pub root: tempfile::TempDir,
}

impl S3Server {
    /// Start a server with one empty bucket.
    pub fn start(bucket: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(bucket)).unwrap();
        let fs = AtomicConditionalPuts { fs: s3s_fs::FileSystem::new(root.path()).unwrap(), conditional: tokio::sync::Mutex::new(()) };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let mut b = S3ServiceBuilder::new(fs);
                b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
                let service = b.build();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let http = ConnBuilder::new(TokioExecutor::new());
                loop {
                    let Ok((socket, _)) = listener.accept().await else { continue };
                    let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        S3Server { addr, root }
    }

    /// The environment a client needs to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", format!("http://{}", self.addr)),
        ]
    }
}

impl S3Server {
    /// The binary with raw lake and warehouse in this server's `lake` bucket, run from `dir`.
    pub fn cmd(&self, dir: &std::path::Path, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pipelake"));
        c.current_dir(dir)
            .env_remove("PIPELAKE_FAULT")
            .env_remove("PIPELAKE_HOLD")
            .env("PIPELAKE_LOG", "warn")
            // Queries cache the warehouse's files here, not in the user's ~/.cache.
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .envs(self.env())
            .args(["--raw", "s3://lake/raw", "--warehouse", "s3://lake/warehouse"])
            .args(args);
        c
    }
}
