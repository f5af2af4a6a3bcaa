//! MCP over stdio: one JSON-RPC message (or batch) per line in, one answer per line out,
//! nothing else on the output. Requests run concurrently (a slow tool call does not hold up a
//! `ping`), at most `IN_FLIGHT` at once; reading waits while that many are running, so a
//! client that floods the input is slowed, not buffered.

use super::protocol::{self, Session};
use serde_json::Value;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, Semaphore};

/// Longest line read (a seed document travels in one); longer lines are skipped, answered
/// with an error.
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// Requests handled at once.
const IN_FLIGHT: usize = 16;

/// One line of input, or why there is none.
enum Line {
    Text(Vec<u8>),
    TooLong,
    End,
}

/// Reads up to `\n`, keeping at most `MAX_LINE` bytes of it.
async fn read_line<R: AsyncRead + Unpin>(
    input: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    line.clear();
    let mut too_long = false;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            // A last line without its newline is still a message.
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Text(std::mem::take(line)),
            });
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len().saturating_add(chunk.len()) > MAX_LINE {
                too_long = true;
                *line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Text(std::mem::take(line))
            });
        }
    }
}

/// Serves `session` until the input ends, then waits for the requests still running.
pub async fn serve<R, W>(session: Session, input: R, mut output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let session = Arc::new(session);
    let (tx, mut rx) = mpsc::channel::<Value>(IN_FLIGHT);
    let writer = tokio::spawn(async move {
        while let Some(answer) = rx.recv().await {
            let mut bytes = serde_json::to_vec(&answer).unwrap_or_default();
            bytes.push(b'\n');
            output.write_all(&bytes).await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        let text = match read_line(&mut input, &mut line).await? {
            Line::End => break,
            Line::Text(t) => t,
            Line::TooLong => {
                let why = format!("Invalid Request: a message is at most {MAX_LINE} bytes");
                let answer = protocol::error(Value::Null, protocol::INVALID_REQUEST, why);
                if tx.send(answer).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let text = text.strip_suffix(b"\r").unwrap_or(&text);
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message = match serde_json::from_slice::<Value>(text) {
            Ok(m) => m,
            Err(e) => {
                if tx.send(protocol::parse_error(&e)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let (session, tx) = (session.clone(), tx.clone());
        tokio::spawn(async move {
            if let Some(answer) = session.answer(message).await {
                let _ = tx.send(answer).await;
            }
            drop(slot);
        });
    }
    // The writer ends when the last running request has sent its answer.
    drop(tx);
    match writer.await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8]) -> Vec<String> {
        let mut reader = BufReader::with_capacity(1024, input);
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line(&mut reader, &mut line).await.expect("in memory") {
                Line::End => return out,
                Line::TooLong => out.push("(too long)".into()),
                Line::Text(t) => out.push(String::from_utf8_lossy(&t).into_owned()),
            }
        }
    }

    #[tokio::test]
    async fn lines_longer_than_the_cap_are_skipped_whole() {
        let mut input = b"{\"a\":1}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend_from_slice(b"\n{\"b\":2}");
        assert_eq!(
            lines(&input).await,
            ["{\"a\":1}", "(too long)", "{\"b\":2}"]
        );
        let exact = vec![b'y'; MAX_LINE];
        assert_eq!(lines(&exact).await.len(), 1);
    }
}
