// ArenaAllocator: a gRPC callback-API MessageAllocator that puts each call's
// request and response on one protobuf Arena, so parsing a batch of leads
// and building its decisions cost bump allocations instead of a malloc and
// a free per string and map entry; the whole arena goes at once when the
// call is done. Install with Service::SetMessageAllocatorFor_<Method>().
// The baseline server (empty_server.cc) uses it to be the cheapest typed
// gRPC server there is; leadroute itself reads and writes the bytes.
#ifndef LEADROUTE_BENCH_ARENA_ALLOCATOR_H_
#define LEADROUTE_BENCH_ARENA_ALLOCATOR_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

namespace leadroute {

template <typename Request, typename Response>
class ArenaAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder;
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions o;
      o.start_block_size = 4 << 10;
      o.max_block_size = 1 << 20;
      return o;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace leadroute

#endif  // LEADROUTE_BENCH_ARENA_ALLOCATOR_H_
