//! The test server starts, answers, stops and comes back.

#[test]
fn redis_server_starts_stops_and_restarts_on_its_port() {
    let redis = session_testkit::RedisServer::start();
    assert!(redis.command("PING").starts_with("+PONG"));
    assert!(redis.command("SET k v").starts_with("+OK"));
    redis.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", redis.port())).is_err());
    redis.restart();
    assert_eq!(redis.command("EXISTS k"), ":0\r\n", "restarted empty");
}
