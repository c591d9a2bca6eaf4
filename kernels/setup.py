from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "activelab_kernels._linear",
            ["src/activelab_kernels/_linear.c"],
            depends=["src/activelab_kernels/_avx512.h", "src/activelab_kernels/_avx2.h"],
            extra_compile_args=["-O3", "-Werror=implicit-function-declaration"],
        )
    ]
)
