// The histogram tools' metrics through a real Prometheus: Debian's prometheus server (started on
// 127.0.0.1 with its own configuration and storage in a temporary directory) scrapes runqlat
// --prometheus every 500 ms, and the series are read back through its HTTP query API.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "tools/tool_runner.hpp"

namespace corebpf {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// A TCP port nobody listens on now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return -1;
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// GET http://127.0.0.1:port/target; the body, or "" when there is no 200 answer.
std::string http_get(int port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    }
  }
  ::close(fd);
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") > response.find("\r\n")) return {};
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-')
      out += static_cast<char>(c);
    else
      out += "%" + std::string(1, "0123456789ABCDEF"[c >> 4]) + std::string(1, "0123456789ABCDEF"[c & 15]);
  }
  return out;
}

// The value of an instant query's single series, or -1.
double query(int port, const std::string& promql) {
  const auto body = http_get(port, "/api/v1/query?query=" + url_encode(promql));
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || json.value("status", "") != "success") return -1;
  const auto& result = json["data"]["result"];
  if (!result.is_array() || result.size() != 1) return -1;
  return std::stod(result[0]["value"][1].get<std::string>());
}

class PrometheusServer {
 public:
  PrometheusServer(const std::filesystem::path& dir, int port, int target_port) : port_(port) {
    const auto config = dir / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 500ms\n  evaluation_interval: 500ms\n"
                          << "scrape_configs:\n  - job_name: corebpf_tools\n    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    const std::string config_flag = "--config.file=" + config.string();
    const std::string storage_flag = "--storage.tsdb.path=" + (dir / "data").string();
    const std::string listen_flag = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    const std::string log = (dir / "prometheus.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execl(kPrometheus, kPrometheus, config_flag.c_str(), storage_flag.c_str(), listen_flag.c_str(),
              "--log.level=warn", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PrometheusServer() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool wait_ready() const {
    for (int i = 0; i < 300; ++i) {
      if (!http_get(port_, "/-/ready").empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

TEST(ToolsPrometheus, RunqlatHistogramThroughPrometheusQueries) {
  COREBPF_REQUIRE_ROOT();
  if (!std::filesystem::exists(kPrometheus))
    COREBPF_SKIP_OR_FAIL("peer missing: /usr/bin/prometheus (run scripts/setup)");
  const auto dir = std::filesystem::temp_directory_path() / ("corebpf-prometheus-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const int metrics_port = free_port();
  const int prometheus_port = free_port();
  ASSERT_GT(metrics_port, 0);
  ASSERT_NE(metrics_port, prometheus_port);
  {
    test::ToolRun tool("runqlat", {"--prometheus", "127.0.0.1:" + std::to_string(metrics_port)});
    ASSERT_TRUE(tool.wait_ready()) << tool.stderr_text();
    // The endpoint itself: OpenMetrics text with the histogram's series.
    std::string exposition;
    for (int i = 0; i < 50 && exposition.find("runqlat_run_queue_latency_seconds_count") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      exposition = http_get(metrics_port, "/metrics");
    }
    EXPECT_NE(exposition.find("# TYPE runqlat_run_queue_latency_seconds histogram"), std::string::npos) << exposition;
    EXPECT_NE(exposition.find("runqlat_run_queue_latency_seconds_bucket{le=\"+Inf\"}"), std::string::npos)
        << exposition;

    PrometheusServer prometheus(dir, prometheus_port, metrics_port);
    ASSERT_TRUE(prometheus.wait_ready()) << "prometheus did not become ready";
    double count = -1, inf_bucket = -1, sum = -1, up = -1;
    for (int i = 0; i < 100 && (count <= 0 || inf_bucket <= 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      up = query(prometheus_port, "up{job=\"corebpf_tools\"}");
      count = query(prometheus_port, "runqlat_run_queue_latency_seconds_count");
      inf_bucket = query(prometheus_port, "runqlat_run_queue_latency_seconds_bucket{le=\"+Inf\"}");
      sum = query(prometheus_port, "runqlat_run_queue_latency_seconds_sum");
    }
    EXPECT_EQ(up, 1);
    EXPECT_GT(count, 0);
    EXPECT_EQ(inf_bucket, count);  // +Inf counts every observation
    EXPECT_GT(sum, 0);
    EXPECT_LT(sum / count, 10.0);  // a mean run queue wait in seconds, not microseconds
    // Buckets are cumulative: le=1ms holds no more than +Inf.
    const double below_ms = query(prometheus_port, "sum(runqlat_run_queue_latency_seconds_bucket{le=\"0.001023\"})");
    EXPECT_GE(below_ms, 0);
    EXPECT_LE(below_ms, inf_bucket);
    EXPECT_EQ(tool.stop(), 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace corebpf
