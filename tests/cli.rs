//! The native CLI end to end on real MNIST (a subset, so it takes seconds): the exercise-1
//! report, metrics.json in the documented shape, plots and weights. `make test` fetches the data.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;
use std::process::Command;

use mnist_lab::lab::core::summary::group;

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mnist-lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the CLI")
}

#[test]
fn compress_writes_a_complete_report_on_real_mnist() {
    let data =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("static/data/mnist/train-images-idx3-ubyte.gz");
    assert!(data.is_file(), "MNIST is missing: run `make data` (make test does)");
    let out = std::env::temp_dir().join(format!("mnist-lab-cli-{}", std::process::id()));
    let o = cli(&[
        "compress",
        "--epochs",
        "2",
        "--refine-epochs",
        "1",
        "--train-subset",
        "6000",
        "--factors",
        "2,8",
        "--rank-rule",
        "both",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["base"]["params"], 84060);
    let epochs = m["base"]["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    for key in ["train_loss", "train_acc", "test_loss", "test_acc"] {
        assert!(epochs[1][key].as_f64().unwrap().is_finite(), "{key}");
    }
    let acc = epochs[1]["test_acc"].as_f64().unwrap();
    assert!(acc > 0.7, "2 epochs on 6000 images should beat chance (10%) by far: {acc}");
    let confusion = m["base"]["confusion"].as_array().unwrap();
    let total: u64 =
        confusion.iter().flat_map(|r| r.as_array().unwrap()).map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(total, 10_000, "the confusion matrix covers the whole test set");
    let c = m["compressed"].as_array().unwrap();
    assert_eq!(c.len(), 4, "2× and 8× under each rank rule");
    assert_eq!(c[0]["rule"], "Seed");
    assert_eq!(c[2]["rule"], "Budget");
    for i in [0, 1] {
        assert!(
            c[i + 2]["params"].as_u64() <= c[i]["params"].as_u64(),
            "the budget rule stays within the seed rule's parameters: {} vs {}",
            c[i + 2]["params"],
            c[i]["params"]
        );
    }
    assert_eq!(c[0]["ranks"], serde_json::json!([50, 25, 5]));
    assert_eq!(
        c[0]["params"],
        784 * 50 + 50 * 100 + 100 + 100 * 25 + 25 * 50 + 50 + 50 * 5 + 5 * 10 + 10
    );
    assert_eq!(c[1]["ranks"], serde_json::json!([12, 6, 1]));
    assert!(c[0]["test_acc_before_refine"].as_f64().unwrap() > 0.1);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    // The report's numbers are the run's (metrics.json), not a template's: every base epoch's
    // row, and each compression's accuracy before and after its refinement.
    let pct = |v: &serde_json::Value| format!("{:.2} %", v.as_f64().unwrap() * 100.0);
    for e in epochs {
        let row = format!(
            "| {} | {:.4} | {} | {:.4} | {} |",
            e["epoch"],
            e["train_loss"].as_f64().unwrap(),
            pct(&e["train_acc"]),
            e["test_loss"].as_f64().unwrap(),
            pct(&e["test_acc"])
        );
        assert!(report.contains(&row), "report lacks the epoch row `{row}`");
    }
    for c in c {
        let after = &c["epochs"].as_array().unwrap().last().unwrap()["test_acc"];
        let ranks: Vec<String> =
            c["ranks"].as_array().unwrap().iter().map(|r| r.to_string()).collect();
        let row = format!(
            "({}) | {} | {:.2}× | {} | {} |",
            ranks.join(", "),
            group(c["params"].as_u64().unwrap() as usize),
            84_060.0 / c["params"].as_f64().unwrap(),
            pct(&c["test_acc_before_refine"]),
            pct(after)
        );
        assert!(report.contains(&row), "report lacks the compression row `{row}`");
    }
    for needle in ["84,060", "k < mn/(m+n)", "### 8× budget compression", "| 8× budget |"] {
        assert!(report.contains(needle), "report lacks `{needle}`");
    }
    for f in [
        "base-curves.svg",
        "spectrum.svg",
        "sweep.svg",
        "weights/base.safetensors",
        "weights/compressed-8x.safetensors",
        "weights/compressed-8x-budget.safetensors",
        "refine-8x-budget-curves.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let sweep = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    assert!(sweep.contains("same budget, ranks by energy") && sweep.contains("seed rule"));
    let _ = std::fs::remove_dir_all(out);
}

/// #36: `--seeds N` runs the exercise once per seed, each exactly as a single run with that seed
/// (metrics.json byte for byte), and summarises them: the spread is the one of the runs' own
/// numbers, and a second invocation keeps the finished runs.
#[test]
fn compress_over_seeds_keeps_each_run_and_gives_their_spread() {
    let tmp = std::env::temp_dir().join(format!("mnist-lab-seeds-{}", std::process::id()));
    let (out, single) = (tmp.join("seeds"), tmp.join("single"));
    let run = |extra: &[&str], dir: &Path| {
        let mut args = vec![
            "compress",
            "--epochs",
            "1",
            "--refine-epochs",
            "1",
            "--train-subset",
            "2000",
            "--factors",
            "8",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", dir.to_str().unwrap()]);
        let o = cli(&args);
        assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["--seeds", "2", "--seed", "7"], &out);
    run(&["--seed", "8"], &single);
    let read = |p: std::path::PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    let text = |p| String::from_utf8(read(p)).unwrap();
    assert!(
        text(out.join("seed-8/metrics.json")) == text(single.join("metrics.json")),
        "a seed of --seeds is that seed's single run, bit for bit"
    );
    let json = |p| -> serde_json::Value { serde_json::from_slice(&read(p)).unwrap() };
    let (summary, runs) = {
        let v = json(out.join("seeds.json"));
        (v[0].clone(), v[1].clone())
    };
    assert_eq!(summary["seeds"], serde_json::json!([7, 8]));
    let finals: Vec<f64> = [7, 8]
        .iter()
        .map(|s| {
            let m = json(out.join(format!("seed-{s}/metrics.json")));
            m["compressed"][0]["epochs"][0]["test_acc"].as_f64().unwrap()
        })
        .collect();
    assert_ne!(finals[0], finals[1], "two seeds, two runs");
    let mean = (finals[0] + finals[1]) / 2.0;
    let sd = (finals[0] - finals[1]).abs() / 2f64.sqrt();
    let after = &summary["compressed"][0]["epochs"][0];
    assert!((after["mean"].as_f64().unwrap() - mean).abs() < 1e-12, "{after} vs {mean}");
    assert!((after["sd"].as_f64().unwrap() - sd).abs() < 1e-12, "{after} vs {sd}");
    assert_eq!(runs.as_array().unwrap().len(), 2);
    let md = String::from_utf8(read(out.join("seeds.md"))).unwrap();
    assert!(md.contains("Exercise 1 over 2 seeds") && md.contains("| 8× | (12, 6, 1) |"), "{md}");
    assert!(md.contains(&format!("{:.2} ± {:.2} %", mean * 100.0, sd * 100.0)), "{md}");
    let bands = String::from_utf8(read(out.join("seeds-curves.svg"))).unwrap();
    assert!(bands.contains("mean ± sd over 2 runs") && md.contains("](seeds-curves.svg)"));
    let one = String::from_utf8(read(single.join("report.md"))).unwrap();
    assert!(one.contains("comes from this one run (seed 8)"), "a single run says it is one");
    // Again with the same folder: the runs are kept, not trained again.
    let kept = std::fs::metadata(out.join("seed-7/metrics.json")).unwrap().modified().unwrap();
    run(&["--seeds", "2", "--seed", "7"], &out);
    let now = std::fs::metadata(out.join("seed-7/metrics.json")).unwrap().modified().unwrap();
    assert_eq!(kept, now, "a finished seed is kept");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// #36: the refinement's recipe — the default one, or settings of its own — changes the
/// refinements only (the base model is the same seed's, bit for bit), and the report says which
/// settings the refinement used.
#[test]
fn a_refinement_recipe_of_its_own_leaves_the_base_alone() {
    let tmp = std::env::temp_dir().join(format!("mnist-lab-recipe-{}", std::process::id()));
    let run = |extra: &[&str], name: &str| {
        let dir = tmp.join(name);
        let mut args = vec![
            "compress",
            "--epochs",
            "1",
            "--refine-epochs",
            "2",
            "--train-subset",
            "2000",
            "--factors",
            "4",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", dir.to_str().unwrap()]);
        let o = cli(&args);
        assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
        (m, std::fs::read_to_string(dir.join("report.md")).unwrap())
    };
    let (plain, plain_report) = run(&[], "plain");
    let (own, own_report) = run(&["--refine-schedule", "constant", "--refine-lr", "0.001"], "own");
    assert_eq!(plain["base"], own["base"], "the base model does not depend on the refinement");
    assert_ne!(
        plain["compressed"][0]["epochs"], own["compressed"][0]["epochs"],
        "the refinement trained with its own recipe"
    );
    // The default recipe (docs/exercise1/refine-recipes.md), not the base model's settings.
    assert!(
        plain_report.contains(
            "its own settings: learning rate 0.01 with a cosine schedule over the refinement, weight decay 0"
        ),
        "{plain_report}"
    );
    assert!(
        own_report.contains(
            "its own settings: learning rate 0.001 with a constant schedule over the refinement, weight decay 0"
        ),
        "{own_report}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn bad_arguments_are_clear_errors_not_panics() {
    for (args, needle) in [
        (vec!["compress", "--lr", "NaN"], "learning rate"),
        (vec!["compress", "--batch-size", "0"], "batch size"),
        (vec!["compress", "--factors", "2,0"], "compression factor"),
        (vec!["compress", "--epochs", "x"], "--epochs"),
        (vec!["compress", "--rank-rule", "best"], "[possible values: seed, budget, both]"),
        (vec!["compress", "--seeds", "0"], "--seeds"),
        (vec!["compress", "--refine-lr", "-1"], "learning rate"),
        (vec!["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (vec!["gan", "--device", "tpu"], "[possible values: flex, cpu, vulkan, cuda]"),
        // make test builds with `vulkan` only: CUDA is a sentence naming its feature and driver.
        (vec!["smoke", "--steps", "1", "--device", "cuda"], "--features cuda"),
        (vec!["smoke", "--steps", "1", "--device", "cuda"], "libcuda.so"),
    ] {
        let o = cli(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

/// #16 item 4 in the CLI: the shipped model on IDX files scores what its metadata says; files
/// that disagree are refused with a message; `compress` trains on the user's files when given.
#[test]
fn evaluate_and_compress_take_the_users_own_idx_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("static/data/mnist");
    let (images, labels) =
        (dir.join("t10k-images-idx3-ubyte.gz"), dir.join("t10k-labels-idx1-ubyte.gz"));
    let o = cli(&[
        "evaluate",
        "--weights",
        "static/models/mlp-784-100-50-10.safetensors",
        "--images",
        images.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("accuracy 98.18% (9818 of 10000)"), "{out}");
    assert!(out.contains("| true \\ predicted |"), "{out}");

    // Two images against three labels: refused, naming both counts.
    let tmp = std::env::temp_dir().join(format!("mnist-lab-eval-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut two = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
    two.extend(vec![0u8; 2 * 784]);
    std::fs::write(tmp.join("two-images"), &two).unwrap();
    std::fs::write(tmp.join("three-labels"), [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]).unwrap();
    let o = cli(&[
        "evaluate",
        "--weights",
        "static/models/mlp-784-100-50-10.safetensors",
        "--images",
        tmp.join("two-images").to_str().unwrap(),
        "--labels",
        tmp.join("three-labels").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("2 images but the label file has 3 labels"), "{err}");

    // compress on the user's files: the base trains on their 10 000 images, not MNIST's 60 000.
    let o = cli(&[
        "compress",
        "--epochs",
        "1",
        "--refine-epochs",
        "0",
        "--factors",
        "2",
        "--train-images",
        images.to_str().unwrap(),
        "--train-labels",
        labels.to_str().unwrap(),
        "--out",
        tmp.join("out").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("1 epochs on 10000 images"), "{err}");
    let o = cli(&["compress", "--train-images", images.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--train-labels <FILE>"), "the two go together: {err}");
}

/// #19 item 5: a CLI that behaves like one. `--help` after a subcommand prints its usage and
/// starts nothing (it used to start a 130-epoch run); unknown and malformed flags are refused
/// with the usage line and exit code 2; numbers that parse but break the page's rules are
/// refused by the same validation; the README's CLI reference is the CLI's own --help.
#[test]
fn the_cli_has_help_refuses_bad_flags_and_matches_the_readme() {
    for cmd in ["compress", "gan", "judge", "evaluate", "smoke", "data"] {
        let o = cli(&[cmd, "--help"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{cmd} --help: {}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains(&format!("Usage: mnist-lab {cmd}")), "{out}");
        assert!(
            o.stderr.is_empty(),
            "{cmd} --help started something: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = cli(&["compress", "--epocs", "5"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unexpected argument '--epocs'") && err.contains("Usage: mnist-lab compress"),
        "{err}"
    );
    let o = cli(&["gan", "--epochs", "many"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid value 'many' for '--epochs <N>'"), "{err}");
    let o = cli(&["compress", "--lr", "NaN", "--epochs", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("learning rate"), "the page's rule: {err}");
    let o = cli(&["gan", "--arch", "rnn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[possible values: dense, cnn]"));

    // The README's reference block is exactly what --help prints now.
    let mut expected = String::from("<!-- cli-help -->\n```text\n");
    expected += &String::from_utf8(cli(&["--help"]).stdout).unwrap();
    for cmd in ["data", "smoke", "compress", "evaluate", "gan", "judge"] {
        expected += &format!("\n$ mnist-lab {cmd} --help\n");
        expected += &String::from_utf8(cli(&[cmd, "--help"]).stdout).unwrap();
    }
    expected += "```\n<!-- /cli-help -->";
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(&expected),
        "README.md's CLI reference is out of date: run scripts/readme-cli.sh"
    );
}

/// #19 item 3: exercise 1 in pieces. `--pause-after 2` stops every two epochs (base or
/// refinement) with the checkpoint saved; `--resume` continues; the pieces end with exactly the
/// metrics and weights of one straight run.
#[test]
fn a_compress_run_in_pieces_matches_a_straight_run() {
    let tmp =
        std::env::temp_dir().join(format!("mnist-lab-compress-resume-{}", std::process::id()));
    let (straight, pieces) = (tmp.join("straight"), tmp.join("pieces"));
    let common = [
        "compress",
        "--epochs",
        "3",
        "--refine-epochs",
        "2",
        "--factors",
        "2,8",
        "--train-subset",
        "2000",
    ];
    let run = |args: &[&str]| {
        let o = cli(args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    fn with<'a>(common: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        common.iter().chain(extra).copied().collect()
    }
    run(&with(&common, &["--out", straight.to_str().unwrap()]));
    let mut said = run(&with(&common, &["--out", pieces.to_str().unwrap(), "--pause-after", "2"]));
    let mut pieces_run = 1;
    while said.contains("paused after") {
        assert!(said.contains(&format!("paused after {} of 7 epochs", 2 * pieces_run)), "{said}");
        said = run(&["compress", "--resume", pieces.to_str().unwrap(), "--pause-after", "2"]);
        pieces_run += 1;
    }
    assert_eq!(pieces_run, 4, "7 epochs in pieces of 2");
    let json = |dir: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
    };
    assert_eq!(json(&pieces), json(&straight), "the same metrics, bit for bit");
    for w in ["base", "compressed-2x", "compressed-8x"] {
        let read =
            |dir: &Path| std::fs::read(dir.join(format!("weights/{w}.safetensors"))).unwrap();
        if w == "base" {
            // Its metadata names the command, which differs; the tensors must not.
            let tensors = |b: Vec<u8>| {
                let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
                b[8 + n..].to_vec()
            };
            assert_eq!(tensors(read(&pieces)), tensors(read(&straight)), "{w}");
        } else {
            assert_eq!(read(&pieces), read(&straight), "{w}");
        }
    }
    let o = cli(&["compress", "--resume", tmp.join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("was it a compress run?"));
}
