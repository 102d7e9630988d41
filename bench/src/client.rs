//! A minimal keep-alive HTTP/1.1 client over one TCP connection, enough to drive the
//! server from the benchmark without a heavyweight client crate.

use anyhow::{Context, Result, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

pub struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    pub fn new(addr: &str) -> Self {
        Self {
            addr: addr.to_owned(),
            stream: None,
        }
    }

    async fn stream(&mut self) -> Result<&mut BufReader<TcpStream>> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr)
                .await
                .with_context(|| format!("connect {}", self.addr))?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        self.stream.as_mut().context("no stream")
    }

    /// Sends a JSON request and reads the whole response; reconnects once on a closed
    /// connection.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        self.send_typed(method, path, token, "application/json", body)
            .await
    }

    /// Sends a request with a content type and reads the whole response.
    pub async fn send_typed(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        match self.try_send(method, path, token, content_type, body).await {
            Ok(r) => Ok(r),
            Err(_) => {
                self.stream = None;
                self.try_send(method, path, token, content_type, body).await
            }
        }
    }

    async fn try_send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n{auth}Content-Length: {}\r\n\r\n",
            body.len()
        );
        let s = self.stream().await?;
        s.get_mut().write_all(head.as_bytes()).await?;
        s.get_mut().write_all(body).await?;
        let mut line = String::new();
        if s.read_line(&mut line).await? == 0 {
            bail!("connection closed");
        }
        let status: u16 = line.split_whitespace().nth(1).context("status")?.parse()?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            line.clear();
            s.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = Some(v.trim().parse()?);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                s.read_line(&mut line).await?;
                let n = usize::from_str_radix(line.trim(), 16)?;
                let mut chunk = vec![0; n + 2];
                s.read_exact(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n]);
            }
        } else {
            let n = length.context("no content-length")?;
            out.resize(n, 0);
            s.read_exact(&mut out).await?;
        }
        Ok((status, out))
    }
}
