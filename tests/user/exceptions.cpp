// C++ exceptions across frames, RAII, std::string and containers.
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

struct Guard {
    const char *name;
    ~Guard() { std::printf("unwound %s\n", name); }
};

static int depth(int n)
{
    Guard g{"frame"};
    if (n == 0)
        throw std::runtime_error("bottom reached");
    return depth(n - 1) + 1;
}

int main()
{
    try {
        depth(2);
    } catch (const std::exception &e) {
        std::printf("caught: %s\n", e.what());
    }
    std::map<std::string, std::vector<int>> m;
    m["odd"] = {1, 3, 5};
    m["even"] = {2, 4};
    for (auto &kv : m)
        std::printf("%s has %zu\n", kv.first.c_str(), kv.second.size());
    try {
        std::vector<int> v(2);
        v.at(5) = 1;
    } catch (const std::out_of_range &) {
        std::printf("out_of_range caught\n");
    }
    return 2;
}
