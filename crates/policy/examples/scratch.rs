use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use regorus::{Engine, Rc};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let modules: Vec<String> = args[1].split(',').map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let input = regorus::Value::from_json_str(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let pkg_entry = &args[3];
    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    for (i, m) in modules.iter().enumerate() {
        engine.add_policy(format!("m{i}.rego"), m.clone()).unwrap();
    }
    let entry: Rc<str> = pkg_entry.as_str().into();
    let policy = engine.compile_with_entrypoint(&entry).unwrap();
    let program = Arc::new(Compiler::compile_from_policy(&policy, &[&entry]).unwrap());
    let data = regorus::Value::new_object();
    let run = || {
        let mut vm = RegoVM::new();
        vm.load_program(Arc::clone(&program));
        vm.set_data(data.clone()).unwrap();
        vm.set_input(input.clone());
        vm.execute().unwrap()
    };
    println!("{}", run().to_json_str().unwrap());
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        run();
    }
    println!("vm: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = Instant::now();
    for _ in 0..200 {
        policy.eval_with_input(input.clone()).unwrap();
    }
    println!("interp: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / 200.0);
}
