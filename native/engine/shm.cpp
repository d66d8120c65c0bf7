#include "shm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hushbox {

bool SharedSegment::valid_name(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return name != "." && name != "..";
}

Status SharedSegment::create(const std::string& name, size_t size) {
  if (!valid_name(name)) return Status::error("invalid link name '" + name + "'");
  close();
  const std::string path = "/" + name;
  const int fd = shm_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return Status::error("shm_open " + path + ": " + std::strerror(errno));
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int e = errno;
    ::close(fd);
    shm_unlink(path.c_str());
    return Status::error("ftruncate " + path + ": " + std::strerror(e));
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    shm_unlink(path.c_str());
    return Status::error("mmap " + path + ": " + std::strerror(e));
  }
  data_ = p;
  size_ = size;
  return Status::success();
}

Status SharedSegment::open(const std::string& name, size_t min_size) {
  if (!valid_name(name)) return Status::error("invalid link name '" + name + "'");
  close();
  const std::string path = "/" + name;
  const int fd = shm_open(path.c_str(), O_RDWR, 0);
  if (fd < 0) return Status::error("shm_open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::error("fstat " + path + ": " + std::strerror(e));
  }
  if (static_cast<size_t>(st.st_size) < min_size) {
    ::close(fd);
    return Status::error("link " + path + " is " + std::to_string(st.st_size) + " bytes, expected " +
                         std::to_string(min_size) + " (engine and addon built from different layouts?)");
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) return Status::error("mmap " + path + ": " + std::strerror(e));
  data_ = p;
  size_ = static_cast<size_t>(st.st_size);
  return Status::success();
}

void SharedSegment::close() {
  if (data_) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

bool SharedSegment::unlink(const std::string& name) {
  if (!valid_name(name)) return false;
  return shm_unlink(("/" + name).c_str()) == 0;
}

}  // namespace hushbox
